"""The emails around a sign-off: a request is waiting, or an item was held (rejected or not answered in time).

One email to the quality team per request and run (outbox dedupe keys ``approval-request:...`` and
``approval-held:...``), with the link to the answer page when Airflow's ``[api] base_url`` is set.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from reaccreditation.approvals.decisions import LABELS, Decision

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from reaccreditation.mail.outbox import Transport
    from reaccreditation.organisation.config import Organisation


def _team(org: Organisation) -> list[Any]:
    from reaccreditation.mail.compose import address

    return [address(m.name, m.email) for m in org.quality_team.members] or [address("Quality team", org.quality_team.mailbox)]


def _notify(
    engine: Engine,
    transport: Transport,
    org: Organisation,
    *,
    title: str,
    what: str,
    dedupe_key: str,
    kind: str,
    run: tuple[str, str],
    link: str | None,
    next_step: str,
    d: Decision | None = None,
    stopped: bool = False,
) -> bool:
    """One email to the quality team (sent once per dedupe key): an approval is waiting, or an item was held."""
    from reaccreditation.mail.compose import Draft, build_message, one_line, sender
    from reaccreditation.mail.outbox import send_once
    from reaccreditation.render import local_time, render

    ctx = {
        "title": title,
        "what": what,
        "decision_label": LABELS.get(d.decision, d.decision) if d else "Waiting for an answer",
        "who": d.who if d else None,
        "when": local_time(d.responded_at) if d and d.responded_at else None,
        "comment": d.comment if d else None,
        "dag_id": run[0],
        "run_id": run[1],
        "link": link,
        "link_label": "Open the run in Airflow" if stopped else "Answer in Airflow",
        "next_step": next_step,
        "stopped": stopped,
    }
    draft = Draft(
        to=_team(org),
        subject=one_line(f"{org.organisation.short_name}: {title}"),
        text=render("approval_alert.txt", **ctx),
        html=render("approval_alert.html", **ctx),
        sender=sender(org),
    )
    return send_once(
        engine,
        transport,
        build_message(draft),
        dedupe_key=dedupe_key,
        assessment_year=org.assessment.year,
        kind=kind,
        run_id=run[1],
    )


def answer_by(deadline: datetime) -> str:
    """A deadline as people read it, in the organisation's time zone: 'Sat 5 Dec, 01:23'."""
    from zoneinfo import ZoneInfo

    from reaccreditation.settings import timezone_name

    when = deadline.astimezone(ZoneInfo(timezone_name()))
    return f"{when:%a} {when.day} {when:%b}, {when:%H:%M}"


def waiting(
    engine: Engine,
    transport: Transport,
    org: Organisation,
    *,
    subject: str,
    item: str,
    approvers: Sequence[dict[str, str]],
    run: tuple[str, str],
    task_id: str,
    link: str | None,
    deadline: datetime | None = None,
) -> bool:
    """Tell the quality team that a request opened: what waits, until when, who may answer, the link."""
    by = f"by {answer_by(deadline)}" if deadline else f"within {org.approvals.timeout}"
    return _notify(
        engine,
        transport,
        org,
        title=f"Approval needed: {subject}",
        what=f"The {item} waits for your answer in Airflow {by}; approvers: {', '.join(u['name'] for u in approvers)}.",
        dedupe_key=f"approval-request:{run[0]}:{run[1]}:{task_id}",
        kind="approval_request",
        run=run,
        link=link,
        next_step="Nothing goes out until someone answers; if nobody does in time, nothing is sent.",
    )


def held(
    engine: Engine,
    transport: Transport,
    org: Organisation,
    d: Decision,
    *,
    item: str,
    run: tuple[str, str],
    task_id: str,
    link: str | None,
) -> bool:
    """Tell the quality team that an item was not sent (rejected, re-plan refused, or nobody answered)."""
    if d.decision == "timed_out":
        what = f"Nobody approved the {item} within {org.approvals.timeout}, so it was not sent."
        step = "Check the item, then trigger the DAG again to ask for approval (or answer sooner next time)."
    else:
        what = f"The {item} was rejected{' by ' + d.who if d.who else ''}" + (f": {d.comment}" if d.comment else ".")
        step = "Fix what the comment asks, then trigger the DAG again; it will ask for approval again."
    return _notify(
        engine,
        transport,
        org,
        title=f"{item[0].upper() + item[1:]} not sent ({LABELS.get(d.decision, d.decision).lower()})",
        what=what,
        dedupe_key=f"approval-held:{run[0]}:{run[1]}:{task_id}",
        kind="approval_held",
        run=run,
        link=link,
        next_step=step,
        d=d,
        stopped=True,
    )
