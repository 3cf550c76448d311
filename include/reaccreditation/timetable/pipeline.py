"""The assessment_timetable DAG's steps as plain functions (plan, publish, re-plan, send), so tests and
scripts can run them too."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the DAG imports this module when it is parsed: the rest is imported when a step runs
    from sqlalchemy import Engine

    from reaccreditation.approvals.binding import Binding
    from reaccreditation.mail.outbox import Transport
    from reaccreditation.organisation.config import Organisation
    from reaccreditation.timetable.diaries.read import Secrets
    from reaccreditation.timetable.problem import Problem

DAG_ID = "assessment_timetable"


def problem_for(
    org: Organisation, scope: dict[str, Any], replan: dict[str, Any] | None = None, busy: dict[str, Any] | None = None
) -> Problem:
    """The problem for a scope; with an approver's re-plan constraints (stored with the plan) applied, and people's
    busy times (``planned["busy"]``: day minutes per email, as :func:`plan` read them from their diaries)."""
    from reaccreditation.timetable.busy import from_json
    from reaccreditation.timetable.problem import build_problem
    from reaccreditation.timetable.solution import Timetable

    p = build_problem(org, scope=scope["elements"], focus=scope["focus"], busy=from_json(busy))
    if replan:
        from reaccreditation.timetable.replan import Replan, apply

        locked = replan.get("locked_at")
        p = apply(p, Replan.from_dict(replan), Timetable.from_dict(locked) if locked else None)
    return p


def read_busy(org: Organisation, secrets: Secrets | None = None, config_dir: Path | None = None) -> dict[str, Any]:
    """Everyone's diaries, read once: busy times in day minutes per email (JSON-ready), the notes on sources that
    could not be read (and what was assumed), and where each person's times came from."""
    from reaccreditation.timetable.busy import busy_minutes, to_json
    from reaccreditation.timetable.diaries import read_for
    from reaccreditation.timetable.problem import TIMEZONE, minutes

    reading = read_for(org, secrets or (lambda name: None), config_dir)
    a = org.assessment
    busy = busy_minutes(reading.busy, a.dates, TIMEZONE, minutes(a.day_start), minutes(a.day_end))
    return {"busy": to_json(busy), "diary_notes": list(reading.notes), "source_of": dict(reading.source_of)}


def plan(
    org: Organisation,
    engine: Engine,
    at_risk: list[str] | None = None,
    seconds: float | None = None,
    replan: dict[str, Any] | None = None,
    *,
    secrets: Secrets | None = None,
    config_dir: Path | None = None,
) -> dict[str, Any]:
    """Read the diaries, scope, solve (moving as few stored sessions as possible) and check; JSON-ready for XCom.

    ``replan``: an approver's constraints (``Replan.to_dict()`` plus ``locked_at``, the timetable they saw).
    ``secrets``: looks up a CalDAV diary's password by variable name; ``config_dir``: where ``ics_file`` diaries
    are (default: the folder of the config in use). The busy times go only into the returned dict (the run's
    XCom), never into the database or the published files.
    """
    from reaccreditation.timetable.checker import check
    from reaccreditation.timetable.scope import scope_from_database
    from reaccreditation.timetable.solver import solve
    from reaccreditation.timetable.store import previous_timetable

    scope = scope_from_database(engine, org.standard, org.framework, org.assessment.year, org.assessment.type, at_risk, org=org)
    diaries = read_busy(org, secrets, config_dir)
    p = problem_for(org, scope.to_dict(), replan, diaries["busy"])
    previous = previous_timetable(engine, org.assessment.year)
    t = solve(p, previous, seconds=seconds)
    problems = check(p, t)
    if problems:  # a solver bug, never the config's fault: stop before anything is sent
        raise RuntimeError("the solved timetable breaks its rules:\n  - " + "\n  - ".join(problems))
    out = {"scope": scope.to_dict(), "timetable": t.to_dict(), "sessions": len(p.sessions), "had_previous": bool(previous)}
    return out | diaries | ({"replan": replan} if replan else {})


def organiser(org: Organisation) -> tuple[str, str]:
    """The invites' ORGANIZER and sender: the quality mailbox under the config's one sender name."""
    return (org.sender_name, org.quality_team.mailbox)


def domain(org: Organisation) -> str:
    return org.mail_domain


def publish(
    org: Organisation, engine: Engine, planned: dict[str, Any], folder: Path, run_id: str | None = None
) -> dict[str, Any]:
    """Store the timetable (bumping SEQUENCE where sessions moved) and write json, xlsx, ics and png."""
    return _publish(org, engine, planned, folder, run_id)[1]


def _publish(
    org: Organisation, engine: Engine, planned: dict[str, Any], folder: Path, run_id: str | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(timetable.json's data, the summary)."""
    from reaccreditation.files import write_atomic
    from reaccreditation.timetable import timetable_json
    from reaccreditation.timetable.ics import calendar
    from reaccreditation.timetable.invites import _info
    from reaccreditation.timetable.picture import day_png
    from reaccreditation.timetable.solution import Timetable
    from reaccreditation.timetable.store import save_timetable, stored_sessions
    from reaccreditation.timetable.writers import timetable_xlsx

    year = org.assessment.year
    p = problem_for(org, planned["scope"], planned.get("replan"))
    t = Timetable.from_dict(planned["timetable"])
    states = save_timetable(engine, year, p, t, domain(org), run_id)
    data = timetable_json.build(
        p, t, states, organisation=org.organisation.name, year=year, assessment_type=org.assessment.type, scope=planned["scope"]
    )
    timetable_json.write(folder, data)
    write_atomic(folder / "timetable.xlsx", timetable_xlsx(p, t))
    scheduled = [_info(r) for r in stored_sessions(engine, year) if r["status"] == "scheduled"]
    write_atomic(folder / "timetable.ics", calendar(p, scheduled, organiser(org), "PUBLISH"))
    for day in range(len(p.days)):
        write_atomic(folder / f"timetable-day{day + 1}.png", day_png(p, t, day))
    changed = [s.key for s in states if s.changed]
    return data, {
        "diary_notes": planned.get("diary_notes", []),  # which diaries could not be read and what was assumed
        "source_of": planned.get("source_of", {}),
        "assessment_year": year,
        "folder": str(folder),
        "sessions": len(t.placements),
        "changed": changed,
        "cancelled": [s.key for s in states if s.status == "cancelled"],
        "moved": list(t.moved),
        "solver": {k: v for k, v in t.to_dict().items() if k not in ("placements", "lunches")},
        "scope": planned["scope"],
        "replan": planned.get("replan"),
    }


def publish_for_approval(org: Organisation, engine: Engine, planned: dict[str, Any], output: Path, run_id: str) -> dict[str, Any]:
    """Publish, record the run, and write the approval page: the days, who is needed, what would be sent."""
    from reaccreditation.approvals.pages import request, timetable_body
    from reaccreditation.db.records import save_run_record
    from reaccreditation.timetable import timetable_json
    from reaccreditation.timetable.invites import pending_invites
    from reaccreditation.timetable.replan import Replan

    year = org.assessment.year
    folder = timetable_json.folder(output, year)
    data, summary = _publish(org, engine, planned, folder, run_id)
    save_run_record(engine, kind=DAG_ID, dag_id=DAG_ID, run_id=run_id, assessment_year=year, payload=summary)
    replan = Replan.from_dict(planned.get("replan")).describe()
    summary["pending"] = pending_invites(engine, year)
    sessions = f"{len(data['days'])} days, {len(data['sessions'])} sessions" + (" (re-planned)" if replan else "")
    return summary | request(
        kind="timetable",
        ref=str(folder / "timetable.xlsx"),
        item="timetable invites",
        subject=f"Timetable {year}: {sessions}",
        body=timetable_body(data, summary, replan=replan, output=output),
    )


def replan(
    org: Organisation,
    engine: Engine,
    planned: dict[str, Any],
    answer: dict[str, Any],
    at_risk: list[str] | None = None,
    *,
    secrets: Secrets | None = None,
    config_dir: Path | None = None,
) -> dict[str, Any]:
    """Solve again with the approver's re-plan form (on top of earlier re-plans), the timetable they saw locked,
    against the diaries as they are now (read again).

    Any failure raises :class:`ReplanError` saying that nothing was sent.
    """
    from reaccreditation.organisation.config import ConfigError
    from reaccreditation.timetable.replan import Replan, ReplanError
    from reaccreditation.timetable.solution import TimetableInfeasible

    try:
        asked = Replan.from_dict(planned.get("replan")).merge(Replan.from_form(answer.get("params_input") or {}))
        locked = asked.to_dict() | {"locked_at": planned["timetable"]}
        return plan(org, engine, at_risk, replan=locked, secrets=secrets, config_dir=config_dir)
    except (TimetableInfeasible, ConfigError, ReplanError) as exc:
        raise ReplanError(f"Re-plan failed, nothing was sent: {exc}") from None


def send(
    org: Organisation,
    engine: Engine,
    transport: Transport,
    planned: dict[str, Any],
    folder: Path | None = None,
    run_id: str | None = None,
) -> dict[str, int]:
    """Send the invites of a published timetable (``folder``: where it was published; default its summary's)."""
    from reaccreditation.timetable.invites import send_timetable

    folder = Path(folder or planned["folder"])
    p = problem_for(org, planned["scope"], planned.get("replan"))
    workbook = (folder / "timetable.xlsx").read_bytes() if (folder / "timetable.xlsx").exists() else None
    sent = send_timetable(
        engine,
        transport,
        p,
        year=org.assessment.year,
        organisation=org.organisation.name,
        organiser=organiser(org),
        workbook=workbook,
        run_id=run_id,
    )
    return sent.__dict__


# What the invites are built from, per stored session (not its row id, run or timestamps).
_SENT_COLUMNS = (
    "session_key", "uid", "sequence", "status", "title", "day", "start_minute", "end_minute", "mode", "site_id",
    "room_id", "assessor", "attendees", "joining_link",
)  # fmt: skip


def content_digest(org: Organisation, engine: Engine, p: Problem, folder: Path) -> str:
    """SHA-256 of what :func:`send` would send now: every stored session as the invites state it, the days,
    places and assessors of the problem, and the published files (the workbook is attached)."""
    from reaccreditation.approvals.binding import digest_of, file_digests
    from reaccreditation.timetable.store import stored_sessions

    year = org.assessment.year
    rows = [{k: r[k] for k in _SENT_COLUMNS} for r in stored_sessions(engine, year)]
    return digest_of(
        {
            "schema": "reaccreditation.timetable.approval/1",
            "assessment_year": year,
            "organisation": org.organisation.name,
            "organiser": organiser(org),
            "days": [d.isoformat() for d in p.days],
            "assessors": p.assessors,
            "places": {"sites": dict(p.sites), "rooms": {k: repr(v) for k, v in p.rooms.items()}, "timezone": p.timezone},
            "sessions": sorted(rows, key=lambda r: r["uid"]),
            "files": file_digests(Path(folder), ["timetable.json", "timetable.xlsx"]),
        }
    )


def approval_binding(org: Organisation, engine: Engine, output: Path, page: dict[str, Any]) -> Binding:
    """What a timetable approval is bound to: this year's published timetable (its folder from the config,
    not XCom) as it stands when the request opens."""
    from reaccreditation.approvals.binding import Binding
    from reaccreditation.timetable import timetable_json

    folder = timetable_json.folder(output, org.assessment.year)
    p = problem_for(org, page["scope"], page.get("replan"))
    return Binding(org.assessment.year, "timetable", str(folder / "timetable.xlsx"), content_digest(org, engine, p, folder))


def send_approved(
    org: Organisation,
    engine: Engine,
    transport: Transport,
    planned: dict[str, Any],
    output: Path,
    run_id: str,
    approval_task: str,
) -> dict[str, int]:
    """Send the invites only if this run's approval task (as recorded in the project database) approved
    exactly what would be sent now; else :class:`NotApproved` and nothing is sent. A later run's re-plan
    stored in between changes the digest, so it is never sent on this run's approval."""
    from reaccreditation.approvals.decisions import require_approved
    from reaccreditation.timetable import timetable_json

    folder = timetable_json.folder(output, org.assessment.year)
    p = problem_for(org, planned["scope"], planned.get("replan"))
    digest = content_digest(org, engine, p, folder)
    require_approved(engine, dag_id=DAG_ID, run_id=run_id, task_id=approval_task, item="timetable invites", digest=digest)
    return send(org, engine, transport, planned, folder, run_id)
