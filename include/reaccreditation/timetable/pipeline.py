"""The DAG's three steps as plain functions (plan, publish, send) so tests and scripts can run them too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from reaccreditation.mail.outbox import Transport
from reaccreditation.organisation.config import Organisation
from reaccreditation.timetable.problem import Problem, build_problem
from reaccreditation.timetable.scope import Scope, scope_from_database
from reaccreditation.timetable.solution import Timetable


def problem_for(org: Organisation, scope: dict[str, Any], replan: dict[str, Any] | None = None) -> Problem:
    """The problem for a scope; with an approver's re-plan constraints (stored with the plan) applied."""
    p = build_problem(org, scope=scope["elements"], focus=scope["focus"])
    if replan:
        from reaccreditation.timetable.replan import Replan, apply

        locked = replan.get("locked_at")
        p = apply(p, Replan.from_dict(replan), Timetable.from_dict(locked) if locked else None)
    return p


def plan(
    org: Organisation,
    engine: Engine,
    at_risk: list[str] | None = None,
    seconds: float | None = None,
    replan: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Scope, solve (moving as few stored sessions as possible) and check; JSON-ready for XCom.

    ``replan``: an approver's constraints (``Replan.to_dict()`` plus ``locked_at``, the timetable they saw).
    """
    from reaccreditation.timetable.checker import check
    from reaccreditation.timetable.solver import solve
    from reaccreditation.timetable.store import previous_timetable

    scope: Scope = scope_from_database(
        engine, org.standard, org.framework, org.assessment.year, org.assessment.type, at_risk, org=org
    )
    p = problem_for(org, scope.to_dict(), replan)
    previous = previous_timetable(engine, org.assessment.year)
    t = solve(p, previous, seconds=seconds)
    problems = check(p, t)
    if problems:  # a solver bug, never the config's fault: stop before anything is sent
        raise RuntimeError("the solved timetable breaks its rules:\n  - " + "\n  - ".join(problems))
    out = {"scope": scope.to_dict(), "timetable": t.to_dict(), "sessions": len(p.sessions), "had_previous": bool(previous)}
    return out | ({"replan": replan} if replan else {})


def organiser(org: Organisation) -> tuple[str, str]:
    """The invites' ORGANIZER and sender: the quality mailbox under the config's one sender name."""
    return (org.sender_name, org.quality_team.mailbox)


def domain(org: Organisation) -> str:
    return org.mail_domain


def publish(
    org: Organisation, engine: Engine, planned: dict[str, Any], folder: Path, run_id: str | None = None
) -> dict[str, Any]:
    """Store the timetable (bumping SEQUENCE where sessions moved) and write json, xlsx, ics and png."""
    from reaccreditation.files import write_atomic
    from reaccreditation.timetable import timetable_json
    from reaccreditation.timetable.ics import calendar
    from reaccreditation.timetable.invites import _info
    from reaccreditation.timetable.picture import day_png
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
    return {
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


def send(
    org: Organisation, engine: Engine, transport: Transport, planned: dict[str, Any], folder: Path, run_id: str | None = None
) -> dict[str, int]:
    from reaccreditation.timetable.invites import send_timetable

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
