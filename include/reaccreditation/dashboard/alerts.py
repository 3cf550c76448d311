"""Tell the quality team when the pipeline needs a person: a failed task, overdue departments.

Every alert is an email through ``mail.outbox.send_once``, so a callback that fires twice (a rerun, a
second scheduler, a retried callback) still sends one message. :func:`send_failure` never raises: a
broken alert must not hide the failure it reports, so problems are logged instead. Airflow's side (the
``on_failure_callback`` reading the task context) is ``orchestration.callbacks``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from email.headerregistry import Address
from typing import TYPE_CHECKING, Any

from reaccreditation.mail.compose import Draft, address, build_message, one_line, sender

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from reaccreditation.mail.outbox import Transport
    from reaccreditation.organisation.config import Organisation

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Audience:
    """Who hears about problems, and under which assessment year the message is logged."""

    recipients: tuple[Address, ...]
    organisation: str
    assessment_year: int
    sender: Address | None = None  # the config's sender (None when the config is unreadable: the SMTP connection's)


def audience(fallback_year: int) -> Audience:
    """The quality team from the config; if the config itself is broken, its raw quality_team entries.

    A broken config is a common reason for a failed task, and exactly when the team must hear of it.
    """
    from reaccreditation.organisation.config import load_organisation
    from reaccreditation.settings import config_path

    try:
        org = load_organisation(config_path())
        people = tuple(address(m.name, m.email) for m in org.quality_team.members)
        return Audience(people, org.organisation.short_name, org.assessment.year, sender(org))
    except Exception as exc:  # noqa: BLE001 - any config problem: fall back to the raw file
        log.warning("failure alert: organisation config unusable (%s); reading quality_team from the raw file", exc)
    return Audience(_raw_quality_team(), "Reaccreditation", fallback_year)


def _raw_quality_team() -> tuple[Address, ...]:
    import yaml

    from reaccreditation.settings import config_path

    try:
        data = yaml.safe_load(config_path().read_text(encoding="utf-8")) or {}
        team = data.get("quality_team") or {}
        people = [
            (str(m.get("name") or m["email"]), str(m["email"]).strip())
            for m in team.get("members") or []
            if isinstance(m, Mapping) and m.get("email")
        ]
        if not people and team.get("mailbox"):
            people = [("Quality team", str(team["mailbox"]).strip())]
        return tuple(address(name, email) for name, email in people if "@" in email)
    except Exception as exc:  # noqa: BLE001
        log.error("failure alert: cannot read the quality team from %s: %s", config_path(), exc)
        return ()


# --- A failed task ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    dag_id: str
    run_id: str
    task_id: str
    try_number: int
    map_index: int
    logical_date: datetime | None
    log_url: str
    error: str

    @property
    def dedupe_key(self) -> str:
        return f"failure:{self.dag_id}:{self.run_id}:{self.task_id}:{self.try_number}"


RERUN = (
    "Read the log, fix the cause (often the organisation config or a department's workbook), then clear the task "
    "in Airflow to rerun it. Emails already sent by the run are not sent again."
)
# A run whose failure comes from what a person typed into a form: clearing a task would read the same answers
# again, so the advice is to trigger the DAG again and answer afresh.
TRIGGER_AGAIN = {
    "assessment_outcome": (
        "Nothing was stored. The error above says what to put right (a field of the form, the report file, or "
        "the day). Trigger assessment_outcome again and fill in the form with the correction; do not clear the "
        "failed task, which would read the same answers again."
    ),
}


def failure_draft(failure: Failure, who: Audience) -> Draft:
    from reaccreditation.render import render

    task = failure.task_id + (f" [{failure.map_index}]" if failure.map_index >= 0 else "")
    ctx = {
        "f": failure,
        "task": task,
        "error": one_line(failure.error, 2000),
        "organisation": who.organisation,
        "advice": TRIGGER_AGAIN.get(failure.dag_id, RERUN),
    }
    return Draft(
        to=list(who.recipients),
        subject=f"{who.organisation}: reaccreditation task failed: {failure.dag_id}.{task}",
        text=render("alert_failure.txt", **ctx),
        html=render("alert_failure.html", **ctx),
        sender=who.sender,
        headers={"X-Reaccreditation-Alert": "failure"},
    )


def send_failure(engine: Engine, transport: Transport, failure: Failure) -> bool:
    """One email per failed try, with a link to the log; never raises (the failure itself must stay visible)."""
    try:
        from reaccreditation.mail.outbox import send_once

        who = audience((failure.logical_date or datetime.now()).year)
        if not who.recipients:
            log.error("failure alert for %s not sent: no quality team recipients", failure.dedupe_key)
            return False
        return send_once(
            engine,
            transport,
            build_message(failure_draft(failure, who)),
            dedupe_key=failure.dedupe_key,
            assessment_year=who.assessment_year,
            kind="failure",
            run_id=failure.run_id,
        )
    except Exception:
        log.exception("failure alert could not be sent")
        return False


# --- Departments that have not returned evidence ---------------------------------------------------------------


def digest_draft(org: Organisation, today: date, overdue: Sequence[Mapping[str, Any]]) -> Draft:
    from reaccreditation.render import render

    ctx = {
        "organisation": org.organisation.name,
        "framework": org.standard.name,
        "year": org.assessment.year,
        "today": today,
        "deadline": org.return_deadline,
        "days_late": (today - org.return_deadline).days,
        "days_to_go": (org.assessment.first_day - today).days,
        "total": len(org.departments),
        "rows": overdue,
    }
    return Draft(
        to=[address(m.name, m.email) for m in org.quality_team.members],
        subject=f"{org.organisation.short_name}: {len(overdue)} department(s) have not returned evidence ({today:%d %b %Y})",
        text=render("digest_overdue.txt", **ctx),
        html=render("digest_overdue.html", **ctx),
        sender=sender(org),
        headers={"X-Reaccreditation-Alert": "overdue-digest"},
    )


def send_overdue_digest(
    engine: Engine, transport: Transport, org: Organisation, today: date, run_id: str | None = None
) -> dict[str, Any]:
    """Email today's list of departments past the return deadline without a returned workbook, once a day.

    Nothing is sent before the deadline, after the assessment's last day, or when every department has
    returned; the result says which.
    """
    from reaccreditation.dashboard.page import overdue_departments
    from reaccreditation.mail.outbox import send_once

    deadline = org.return_deadline
    if today <= deadline:
        return {"sent": False, "overdue": 0, "why": f"return deadline {deadline} not passed yet"}
    if today > org.assessment.last_day:
        return {"sent": False, "overdue": 0, "why": "the assessment is over"}
    overdue = overdue_departments(engine, org, today)
    if not overdue:
        return {"sent": False, "overdue": 0, "why": "every department has returned evidence"}
    sent = send_once(
        engine,
        transport,
        build_message(digest_draft(org, today, overdue)),
        dedupe_key=f"overdue:{org.assessment.year}:{today.isoformat()}",
        assessment_year=org.assessment.year,
        kind="overdue_digest",
        run_id=run_id,
    )
    return {
        "sent": sent,
        "overdue": len(overdue),
        "departments": [r["id"] for r in overdue],
        "why": "sent" if sent else "already sent today",
    }
