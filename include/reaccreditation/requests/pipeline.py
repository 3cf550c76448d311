"""The evidence_requests DAG's steps as plain functions: import the history, plan the day, send, report.

What is due is decided from plain data (``plan``) and split into batches of ``requests.batch_size``
departments (``batch``: one mapped task each, a department's failure isolated from the rest of its batch);
what was sent is read back from the outbox, so a retried batch is counted once. Everything is logged at
INFO: the plan task's log says why a day sent nothing.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the DAG imports this module when it is parsed: the rest is imported when a step runs
    from sqlalchemy import Engine

    from reaccreditation.mail.outbox import Transport
    from reaccreditation.organisation.config import Organisation

log = logging.getLogger(__name__)


def import_history(org: Organisation, engine: Engine, folder: Path | None = None) -> list[str]:
    """Load last year's accepted evidence and past ratings from the config's ``history/`` folder, once."""
    from reaccreditation.requests.seed import import_history as load
    from reaccreditation.settings import config_path

    valid = {e.id for e in org.standard.elements}
    results = load(engine, folder or config_path().parent / "history", org.assessment.year, valid, org.standard)
    for r in results:
        log.info("history: %s", r)
    return [str(r) for r in results]


def plan(org: Organisation, engine: Engine, today: date, run_id: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """What is due today: batches of the departments with something to send (JSON-ready for mapping).

    ``params``: the run's ``department`` (only that one; its request is sent now) and ``resend``.
    """
    from reaccreditation.requests import queries
    from reaccreditation.requests.batch import batches
    from reaccreditation.requests.plan import plan_run

    year = org.assessment.year
    result = plan_run(
        org,
        today,
        run_id=run_id,
        sent=set(queries.sent_keys(engine, year)),
        requested_before=queries.requested_before(engine, year, run_id),
        evidenced=queries.evidenced_elements(engine, year),
        department=(params.get("department") or "").strip() or None,
        resend=bool(params.get("resend")),
    )
    log.info("%s: stages open: %s", today, ", ".join(st.label for st in result.stages) or "none")
    for note in result.notes:
        log.info("%s", note)
    for item in result.work:
        log.info("%s: %s", item.department_id, ", ".join(s.dedupe_key for s in item.sends))
    planned = batches(result.work, org.requests.batch_size)
    log.info("%d department(s) in %d batch(es) of up to %d", len(result.work), len(planned), org.requests.batch_size)
    return [b.to_dict() for b in planned]


def send_batch(
    engine: Engine,
    transport: Transport,
    org: Organisation,
    batch: Mapping[str, Any],
    today: date,
    run_id: str,
    output: Path,
    signing_key: bytes | None = None,
) -> dict[str, Any]:
    """Each department of the batch in turn: its workbook (``_meta`` signed with ``signing_key``) and emails,
    each email once; one department's failure does not stop the others (``batch``)."""
    from reaccreditation.requests.batch import Batch, carry_out_batch
    from reaccreditation.requests.plan import DepartmentWork
    from reaccreditation.requests.send import carry_out

    def send(item: DepartmentWork) -> dict[str, int]:
        return carry_out(engine, transport, org, item, today=today, run_id=run_id, output=output, signing_key=signing_key)

    return carry_out_batch(Batch.from_dict(dict(batch)), send)


def report(engine: Engine, org: Organisation, run_id: str) -> dict[str, int]:
    """What this run sent, from the request log (so a retried department is counted once)."""
    from reaccreditation.mail.outbox import sent_messages

    rows = [r for r in sent_messages(engine, org.assessment.year) if r["run_id"] == run_id]
    totals = Counter(r["kind"] for r in rows if r["status"] == "sent")
    departments = {r["department_id"] for r in rows}
    log.info("sent by this run: %s to %d department(s)", dict(totals) or "nothing", len(departments))
    return dict(totals)
