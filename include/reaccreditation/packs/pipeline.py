"""The readiness_pack DAG's steps as plain functions: is a pack due, render it, send it once approved."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the DAG imports this module when it is parsed: the rest is imported when a step runs
    from sqlalchemy import Engine

    from reaccreditation.approvals.binding import Binding
    from reaccreditation.mail.outbox import Transport
    from reaccreditation.organisation.config import Organisation

DAG_ID = "readiness_pack"
log = logging.getLogger(__name__)


def due(org: Organisation, engine: Engine, today: date) -> dict[str, Any] | None:
    """The pack due today (at or after a pack date, until sent; the closing pack once outcomes are in), or
    None; the reason is logged either way."""
    from reaccreditation.packs import schedule, sources
    from reaccreditation.packs.render import planned_keys

    year = org.assessment.year
    current = schedule.current_pack(org, today)
    sent = False
    if current is not None:
        when = current.pack_date.isoformat()
        sent = planned_keys(org, when) <= sources.sent_keys(engine, f"pack:{year}:{when}:")
    imported = any(o["assessment_year"] == year for o in sources.outcomes(engine, org.framework))
    decision = schedule.decide(org, today, sent=sent, outcomes_imported=imported)
    log.info("readiness pack on %s: %s", today, decision.reason)
    return decision.to_dict() | {"today": today.isoformat()} if decision.due else None


def render(org: Organisation, engine: Engine, output: Path, decision: dict[str, Any]) -> dict[str, Any]:
    """Gather the figures and write the pack folder; the paths and the approval page (subject, Markdown)."""
    from reaccreditation.approvals.pages import pack_body, request
    from reaccreditation.dates import as_date
    from reaccreditation.packs import schedule, sources
    from reaccreditation.packs.gather import top_gaps
    from reaccreditation.packs.render import render_pack

    today = as_date(decision["today"])
    p = decision["pack"]
    pack_date = schedule.PackDate(as_date(p["pack_date"]), p["kind"], p["days_before"])
    src = sources.load(org, engine, output, pack_date.pack_date, closing=pack_date.kind == schedule.CLOSING)
    manifest = render_pack(org, src, pack_date, today, output)
    folder, headline = manifest["folder"], manifest["headline"]
    rendered = {
        "folder": folder,
        "manifest": f"{folder}/manifest.json",
        "pack_date": p["pack_date"],
        "kind": p["kind"],
        "rag": headline["rag"],
        "missing": headline["missing"],
        "messages": [
            {
                "to": m["department_id"] or "leadership",  # an id: addresses stay in the manifest, out of XCom
                "html": f"{folder}/{m['html']}",
                "text": f"{folder}/{m['text']}",
                "attachment": f"{folder}/{m['attachment']}",
            }
            for m in manifest["messages"]
        ],
    }
    label = headline.get("label") or p["pack_date"]
    return rendered | request(
        kind="readiness_pack",
        ref=folder,
        item="readiness pack",
        subject=f"Readiness pack {label}: {headline['rag']}, {len(manifest['messages'])} messages",
        body=pack_body(manifest, top_gaps(org, src, today=today), output=output),
    )


def approval_binding(org: Organisation, engine: Engine, output: Path, page: dict[str, Any]) -> Binding:
    """What the pack's approval is bound to: the rendered folder (under this year's packs folder) and the
    digest of everything the send step would mail from it."""
    from reaccreditation.approvals.binding import Binding
    from reaccreditation.packs import manifest

    folder = Path(page["folder"]).resolve()
    packs = (Path(output) / str(org.assessment.year) / "packs").resolve()
    if not folder.is_relative_to(packs):
        raise ValueError(f"the pack to approve, {folder}, is not under {packs}: nothing can be approved or sent from there")
    return Binding(org.assessment.year, "readiness_pack", str(folder), manifest.digest(folder))


def send_approved(engine: Engine, transport: Transport, run_id: str, approval_task: str = "approve_pack") -> dict[str, int]:
    """Send the pack this run's approval task approved (its folder as recorded in the project database,
    not XCom), only if its digest is still the approved one; else :class:`NotApproved`, nothing sent."""
    from reaccreditation.approvals.decisions import answer_of, require_approved
    from reaccreditation.packs import manifest

    answer = answer_of(engine, DAG_ID, run_id, approval_task) or {}
    folder = Path(answer.get("item_ref") or ".")
    digest = manifest.digest(folder) if (folder / manifest.NAME).is_file() else "missing"
    require_approved(engine, dag_id=DAG_ID, run_id=run_id, task_id=approval_task, item="readiness pack", digest=digest)
    return send(engine, transport, {"folder": str(folder)}, run_id)


def send(engine: Engine, transport: Transport, rendered: dict[str, Any], run_id: str) -> dict[str, int]:
    """Mail the rendered pack (each message once) and record its headline figures for the next pack."""
    from reaccreditation.db.records import save_run_record
    from reaccreditation.packs import manifest, sources
    from reaccreditation.packs.send import send_pack

    folder = Path(rendered["folder"])
    counts = send_pack(engine, transport, folder, run_id)
    data = manifest.read(folder)
    save_run_record(
        engine,
        kind=sources.RECORD_KIND,
        dag_id=DAG_ID,
        run_id=run_id,
        assessment_year=data["assessment_year"],
        payload=data["headline"] | counts | {"folder": str(folder)},
    )
    return counts
