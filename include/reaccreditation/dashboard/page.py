"""What the quality team's Reaccreditation page shows, gathered as one plain dict.

Every source may be absent while the season is young (no requests sent, no gap analysis or timetable
run yet, tables of a later migration missing): each section then carries ``status: "not_run"`` and a
sentence saying what will fill it, instead of failing the page. The page reads nothing of its own: the
stages' queries (``requests.queries``, ``intake.store``, ``gaps.store``, ``approvals.decisions``) and
their files' readers (``gaps.gaps_json``, ``timetable.timetable_json``). No Airflow here: the plugin
passes in the DAG runs it read through Airflow.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, inspect

from reaccreditation.approvals.decisions import recent_approvals
from reaccreditation.dates import as_date
from reaccreditation.files import Unavailable
from reaccreditation.gaps import gaps_json
from reaccreditation.gaps import store as gap_store
from reaccreditation.gaps.model import RETURNED_STATUSES
from reaccreditation.intake.store import current_register, submissions_by_department
from reaccreditation.organisation.config import Organisation
from reaccreditation.organisation.summary import key_dates
from reaccreditation.requests.queries import evidenced_elements, request_log
from reaccreditation.timetable import timetable_json

READINESS = ("ready", "at risk", "gap")
OK, NOT_RUN, BROKEN = "ok", "not_run", "broken"


def section(status: str, message: str = "", **data: Any) -> dict[str, Any]:
    return {"status": status, "message": message, **data}


def _migrated(engine: Engine, *tables: str) -> bool:
    """True when the database has these tables (a section whose migration has not run shows "not run")."""
    found = inspect(engine)
    return all(found.has_table(t) for t in tables)


def _problem(missing: Unavailable, what: str, year: int) -> tuple[str, str]:
    """(status, sentence) for a stage's file the page cannot use."""
    name = missing.path.name
    if missing.reason == "missing":
        return NOT_RUN, f"No {what} for {year} yet ({name} not written)"
    if missing.reason == "unreadable":
        return BROKEN, f"{name} could not be read: {missing.detail}"
    if missing.reason == "other_year":
        return BROKEN, f"{name} is for {missing.detail}, not {year}"
    return BROKEN, f"{name} is not a {missing.detail} file"


# --- Departments ---------------------------------------------------------------------------------------


def department_rows(
    engine: Engine, org: Organisation, today: date, gaps: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """One row per configured department: requests, reminders, last submission, rows, open elements.

    Open elements come from the latest gap snapshot when there is one (an owned element that is not
    ready); before that, an owned element with no current evidence from the department is open.
    """
    year = org.assessment.year
    log = request_log(engine, year) if _migrated(engine, "outbound_message") else {}
    subs = submissions_by_department(engine, year) if _migrated(engine, "submission") else {}
    evidenced = evidenced_elements(engine, year) if _migrated(engine, "evidence") else {}
    # Rows that count now: a later version of a workbook replaces its earlier rows, so summing every
    # workbook's accepted rows would count a resubmitted row twice.
    current_rows: dict[str, int] = defaultdict(int)
    if _migrated(engine, "evidence"):
        for r in current_register(engine, year):
            current_rows[r["department_id"]] += 1
    readiness = {e["element_id"]: e.get("readiness") for e in (gaps or {}).get("elements", []) if "element_id" in e}
    rows = []
    for d in org.departments:
        sent = log.get(d.id, {})
        mine = subs.get(d.id, [])
        returned = [s for s in mine if s.get("status") in RETURNED_STATUSES]
        if readiness:
            open_elements = [e for e in d.elements if readiness.get(e, "gap") != "ready"]
            open_source = "gap analysis"
        else:
            open_elements = [e for e in d.elements if e not in evidenced.get(d.id, set())]
            open_source = "no evidence yet"
        last = mine[0] if mine else None
        rows.append(
            {
                "id": d.id,
                "name": d.name,
                "head": d.head.name,
                "contacts": [p.name for p in d.evidence_contacts],
                "request_sent": (sent.get("request") or [None])[0],
                "reminders": list(sent.get("reminder", [])),
                "escalated": (sent.get("escalation") or [None])[0],
                "submissions": len(mine),
                "last_submission": None
                if last is None
                else {
                    "received": as_date(last.get("received_at")),
                    "file": last.get("original_name"),
                    "status": last.get("status"),
                    "message": last.get("message"),
                },
                "accepted_rows": current_rows[d.id],  # current evidence rows, from every workbook still in force
                "rejected_rows": int(last.get("rows_rejected") or 0) if last else 0,  # in the last workbook
                "returned": bool(returned),
                "overdue": not returned and today > org.return_deadline,
                "elements": len(d.elements),
                "open_elements": open_elements,
                "open_source": open_source,
            }
        )
    return rows


def overdue_departments(engine: Engine, org: Organisation, today: date) -> list[dict[str, Any]]:
    """Departments that have not returned evidence although the return deadline has passed."""
    return [r for r in department_rows(engine, org, today) if r["overdue"]]


# --- Gap snapshot ----------------------------------------------------------------------------------------


def latest_gaps(engine: Engine, output: Path, year: int) -> tuple[dict[str, Any] | None, str, str]:
    """The latest gap snapshot: gaps.json, else the newest one stored in the database.

    Returns (snapshot or None, where it came from, and when there is none: the status and why).
    """
    data, missing = gaps_json.read(output, year)
    if data is not None and isinstance(data.get("elements"), list):
        return data, str(gaps_json.path(output, year)), OK
    if _migrated(engine, "gap_snapshot", "gap_element"):
        stored, run_id = gap_store.latest_snapshot(engine, year)
        if stored is not None:
            return stored, f"gap snapshot of run {run_id}", OK
    status, why = _problem(missing, "gap analysis", year) if missing else (BROKEN, "gaps.json has no list of elements")
    return None, why, status


def _reason_text(reason: Any) -> dict[str, str]:
    if isinstance(reason, Mapping):
        return {"severity": str(reason.get("severity") or ""), "message": str(reason.get("message") or reason.get("code") or "")}
    return {"severity": "", "message": str(reason)}


def element_rows(
    org: Organisation,
    gaps: Mapping[str, Any],
    *,
    readiness: str | None = None,
    criterion: str | None = None,
    text: str | None = None,
) -> dict[str, Any]:
    """Criteria with their elements' readiness and reasons, filtered; counts before and after the filter."""
    standard = org.standard
    by_id = {str(e["element_id"]): e for e in gaps.get("elements", []) if isinstance(e, Mapping) and "element_id" in e}
    needle = (text or "").strip().lower()
    names = {d.id: d.name for d in org.departments}
    criteria = []
    total = shown = 0
    for c in standard.criteria:
        items = []
        for el in c.elements:
            found = by_id.get(el.id)
            total += 1
            row = {
                "id": el.id,
                "title": el.title,
                "sub_criterion": el.sub_criterion_id,
                "readiness": str(found.get("readiness")) if found else "not assessed",
                "forecast": str(found.get("forecast") or "") if found else "",
                "in_focus": bool(found.get("in_focus")) if found else False,
                "reasons": [_reason_text(r) for r in (found.get("reasons") or [])] if found else [],
                "owners": [
                    names.get(o, o)
                    for o in (found.get("owners") if found and found.get("owners") else [d.id for d in org.owners(el.id)])
                ],
            }
            if readiness and row["readiness"] != readiness:
                continue
            if criterion and c.id != criterion:
                continue
            if (
                needle
                and needle
                not in " ".join([row["id"], row["title"], *row["owners"], *(r["message"] for r in row["reasons"])]).lower()
            ):
                continue
            items.append(row)
        shown += len(items)
        counts = {k: sum(1 for e in c.elements if (by_id.get(e.id) or {}).get("readiness") == k) for k in READINESS}
        criteria.append({"id": c.id, "title": c.title, "counts": counts, "elements": items})
    return {"criteria": criteria, "total": total, "shown": shown}


def readiness_counts(gaps: Mapping[str, Any]) -> dict[str, int]:
    elements = [e for e in gaps.get("elements", []) if isinstance(e, Mapping)]
    return {k: sum(1 for e in elements if e.get("readiness") == k) for k in READINESS} | {"elements": len(elements)}


# --- Readiness over time -------------------------------------------------------------------------------------


def _points(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One point per day (the latest snapshot of a day wins), oldest first."""
    points: dict[date, dict[str, Any]] = {}
    for r in rows:
        day = as_date(r.get("as_of"))
        if day is None:
            continue
        ready, at_risk, gaps = (int(r.get(k) or 0) for k in ("ready", "at_risk", "gaps"))
        total = ready + at_risk + gaps
        points[day] = {
            "as_of": day,
            "elements": total,
            "ready": ready,
            "at_risk": at_risk,
            "gaps": gaps,
            "ready_pct": round(100 * ready / total, 1) if total else 0.0,
        }
    return [points[d] for d in sorted(points)]


def readiness_history(engine: Engine, year: int) -> list[dict[str, Any]]:
    """Readiness over the season from the stored snapshots."""
    return _points(gap_store.readiness_history(engine, year)) if _migrated(engine, "gap_snapshot") else []


def history_from_gaps(gaps: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The trend the gap stage copies into gaps.json (``readiness_history``), when its table is not reachable."""
    return _points([p for p in (gaps or {}).get("readiness_history") or [] if isinstance(p, Mapping)])


def chart(points: Sequence[Mapping[str, Any]], width: int = 640, height: int = 220) -> dict[str, Any]:
    """Coordinates for an inline SVG chart of ready / at risk / gap counts; the template draws it."""
    left, right, top, bottom = 44, 36, 12, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = max((p["elements"] for p in points), default=0) or 1
    n = len(points)

    def x(i: int) -> float:
        return round(left + (plot_w / 2 if n == 1 else plot_w * i / (n - 1)), 1)

    def y(v: float) -> float:
        return round(top + plot_h - plot_h * v / top_value, 1)

    series = []
    for key, label, colour in (("ready", "Ready", "#00703c"), ("at_risk", "At risk", "#f47738"), ("gaps", "Gap", "#d4351c")):
        coords = [(x(i), y(p[key])) for i, p in enumerate(points)]
        series.append(
            {
                "key": key,
                "label": label,
                "colour": colour,
                "points": " ".join(f"{a},{b}" for a, b in coords),
                "dots": coords,
                "last": points[-1][key] if points else 0,
            }
        )
    ticks = sorted({0, top_value // 2, top_value})
    step = max(1, n // 6)
    labels = [{"x": x(i), "text": f"{p['as_of']:%d %b}"} for i, p in enumerate(points) if i % step == 0 or i == n - 1]
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "top": top,
        "bottom": top + plot_h,
        "series": series,
        "y_ticks": [{"y": y(t), "text": t} for t in ticks],
        "x_labels": labels,
    }


# --- Timetable --------------------------------------------------------------------------------------------------


def timetable(output: Path, year: int, department_names: Mapping[str, str]) -> dict[str, Any]:
    """The assessor's timetable from timetable.json, as rows: when, time, session, where, departments
    (ids shown as names), elements."""
    data, missing = timetable_json.read(output, year)
    if missing is not None:
        return section(*_problem(missing, "timetable", year))
    assert data is not None
    rows = []
    for s in data["sessions"]:
        when = as_date(s["date"])
        rows.append(
            {
                "date": s["date"],
                "day": s["day"],
                "when": f"{when:%a %d %b %Y}" if when else s["date"],
                "start": s["start"],
                "end": s["end"],
                "title": s["title"],
                "where": s["where"],
                "link": s.get("joining_link"),  # a virtual session's joining link (older files have none)
                "mode": s["mode"],
                "departments": ", ".join(department_names.get(d, d) for d in s["departments"]),
                "elements": ", ".join(s["elements"]),
                "uid": s["uid"] or "",  # the invitees' answers are kept by UID
            }
        )
    rows.sort(key=lambda r: (r["date"], r["start"]))
    return section(OK, "", source=str(timetable_json.path(output, year)), sessions=rows)


RUN_KINDS = {
    "scheduled": "Daily/weekly run",
    "manual": "Run started by hand",
    "asset_triggered": "Run after new data",
    "backfill": "Backfill run",
    "asset_materialization": "Run after new data",
}


def run_label(run: Mapping[str, Any]) -> str:
    """A run named in words ('Run started by hand, for 20 Nov 2026 12:00'), not by its run id."""
    kind = RUN_KINDS.get(str(run.get("run_type") or ""), "Run")
    return f"{kind}, for {run['date']}" if run.get("date") else kind


# --- What needs the quality team today ----------------------------------------------------------------------------

STALE_AFTER_DAYS = 2  # the gap analysis runs daily and on every new evidence register


def waiting_section(
    waiting: Mapping[str, Any] | None, departments: Mapping[str, Any], gaps: Mapping[str, Any], today: date
) -> dict[str, Any]:
    """'Waiting for you': open sign-offs, overdue departments, paused DAGs, a gap analysis gone stale."""
    items: list[dict[str, Any]] = []
    if waiting is None:
        items.append({"kind": "broken", "text": "Open sign-offs and paused DAGs could not be read from Airflow."})
    else:
        for p in waiting.get("pending") or []:
            who = ", ".join(n for n in p.get("assigned") or [] if n)
            items.append({"kind": "sign-off", "text": f"Sign-off waiting: {p['subject']}", "who": who, "url": p["url"]})
        paused = waiting.get("paused") or []
        if paused:
            items.append(
                {
                    "kind": "paused",
                    "text": f"{len(paused)} DAG(s) paused, so they do not run on their schedule: "
                    + ", ".join(d["dag_id"] for d in paused)
                    + ". Unpause them with the toggle on the DAG's page.",
                    "links": paused,
                }
            )
    overdue = [r for r in departments.get("rows") or [] if r.get("overdue")]
    if overdue:
        items.append(
            {
                "kind": "overdue",
                "text": f"{len(overdue)} department(s) past the return deadline: " + ", ".join(r["name"] for r in overdue) + ".",
                "anchor": "#departments",
            }
        )
    as_of = gaps.get("as_of") if gaps.get("status") == OK else None
    if as_of and (today - as_of).days >= STALE_AFTER_DAYS:
        items.append(
            {
                "kind": "stale",
                "text": f"The gap analysis is {(today - as_of).days} days old (as of {as_of:%d %b %Y}): the readiness "
                "figures below may be out of date. Check that gap_analysis is unpaused and its last run succeeded.",
                "anchor": "#readiness",
            }
        )
    elif gaps.get("status") != OK:
        items.append({"kind": "stale", "text": "No gap analysis yet: readiness figures appear after its first run."})
    return {"entries": [{"url": None, "who": None, "anchor": None, "links": None} | i for i in items]}


def readiness_by_criterion(org: Organisation, gaps: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """One row per criterion: ready, at risk, gap and not assessed, out of its elements (the five-row summary)."""
    by_id = {str(e.get("element_id")): e for e in (gaps or {}).get("elements", []) if isinstance(e, Mapping)}
    rows = []
    for c in org.standard.criteria:
        states = [str((by_id.get(e.id) or {}).get("readiness") or "not assessed") for e in c.elements]
        counts = {k: states.count(k) for k in (*READINESS, "not assessed")}
        rows.append({"id": c.id, "title": c.title, "elements": len(states), **counts})
    return rows


def key_date_status(engine: Engine | None, org: Organisation, today: date) -> list[dict[str, Any]]:
    """The season's key dates, each marked Sent / Not sent / Upcoming from the outbox log (or Passed)."""
    from sqlalchemy import select

    from reaccreditation.db.schema import outbound_message

    year = org.assessment.year
    sent: list[str] = []
    if engine is not None and _migrated(engine, "outbound_message"):
        with engine.connect() as conn:
            sent = list(
                conn.scalars(
                    select(outbound_message.c.dedupe_key).where(
                        outbound_message.c.assessment_year == year, outbound_message.c.status == "sent"
                    )
                )
            )
    rows = []
    for r in key_dates(org):
        what = str(r["what"])
        if what == "Evidence requests sent":
            prefix: str | None = f"request:{year}:"
        elif what.startswith("Reminder "):
            prefix = f"reminder{what.split()[-1]}:{year}:"
        elif what.startswith("Escalation"):
            prefix = f"escalation:{year}:"
        elif what.startswith("Readiness pack"):
            prefix = f"pack:{year}:{r['date'].isoformat()}:"
        else:
            prefix = None
        count = sum(1 for k in sent if prefix and k.startswith(prefix))
        if prefix is None:
            status = "Passed" if r["date"] < today else ("Today" if r["date"] == today else "Upcoming")
        elif count:
            status = f"Sent ({count})"
        else:
            status = "Not sent" if r["date"] <= today else "Upcoming"
        rows.append(dict(r) | {"status": status})
    return rows


# --- DAG runs ------------------------------------------------------------------------------------------------------


def run_section(runs: Sequence[Mapping[str, Any]] | None, last: int = 5) -> dict[str, Any]:
    """The last runs of each reaccreditation DAG (newest first), from rows the plugin read via Airflow."""
    if runs is None:
        return section(BROKEN, "DAG runs could not be read from Airflow")
    by_dag: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in runs:
        by_dag[str(r["dag_id"])].append(dict(r))
    if not by_dag:
        return section(NOT_RUN, "No DAG tagged 'reaccreditation' is known to Airflow yet")
    dags = []
    for dag_id in sorted(by_dag):
        items = sorted((r for r in by_dag[dag_id] if r.get("run_id")), key=lambda r: str(r.get("run_after") or ""), reverse=True)[
            :last
        ]
        items = [{"state": "", "date": None, "end": None, "url": None, "run_after": None} | r for r in items]
        for r in items:
            r["label"] = run_label(r)
        name = next((r["dag_name"] for r in by_dag[dag_id] if r.get("dag_name")), dag_id)  # the DAG's name in words
        dags.append({"dag_id": dag_id, "name": name, "url": by_dag[dag_id][0].get("dag_url"), "runs": items})
    return section(OK, "", dags=dags)


# --- Evidence review ----------------------------------------------------------------------------------------------


def review_section(engine: Engine, org: Organisation) -> dict[str, Any]:
    """Review progress per department: items per state, the share reviewed, a link to its queue (docs/review.md)."""
    from reaccreditation.review import store as review

    if not _migrated(engine, "evidence", "evidence_review"):
        return section(NOT_RUN, "No evidence review yet (the review table is not created: run the database upgrade)")
    counts = review.department_progress(engine, org.assessment.year)
    rows = []
    for d in org.departments:
        c = counts.get(d.id, dict.fromkeys(review.STATES, 0))
        total = sum(c.values())
        done = total - c[review.UNREVIEWED]
        rows.append(
            {
                "id": d.id,
                "name": d.name,
                "counts": c,
                "total": total,
                "reviewed": done,
                "reviewed_pct": round(100 * done / total) if total else None,
            }
        )
    total = sum(r["total"] for r in rows)
    if not total:
        return section(NOT_RUN, "No evidence items to review yet (they come with the departments' workbooks)", rows=rows)
    done = sum(r["reviewed"] for r in rows)
    states = [{"id": k, "label": v} for k, v in review.LABELS.items()]
    return section(OK, "", rows=rows, states=states, total=total, reviewed=done, reviewed_pct=round(100 * done / total))


# --- The page ----------------------------------------------------------------------------------------------------


def gather(
    engine: Engine | None,
    org: Organisation,
    today: date,
    output: Path,
    runs: Sequence[Mapping[str, Any]] | None = None,
    *,
    waiting: Mapping[str, Any] | None = None,
    readiness: str | None = None,
    criterion: str | None = None,
    text: str | None = None,
) -> dict[str, Any]:
    """Everything the page shows. ``engine`` None: the project database is unreachable (said on the page)."""
    year = org.assessment.year
    out: dict[str, Any] = {
        "organisation": org.organisation.name,
        "short_name": org.organisation.short_name,
        "framework": org.standard.name,
        "today": today,
        "assessment": {
            "year": year,
            "type": org.assessment.type,
            "first_day": org.assessment.first_day,
            "last_day": org.assessment.last_day,
            "days_to_go": (org.assessment.first_day - today).days,
            "return_deadline": org.return_deadline,
            "assessor": org.assessment.assessor.name if org.assessment.assessor else None,
        },
        "key_dates": key_dates(org),
        "filter": {"readiness": readiness or "", "criterion": criterion or "", "text": text or ""},
        "filter_choices": {
            "readiness": list(READINESS) + ["not assessed"],
            "criteria": [{"id": c.id, "title": c.title} for c in org.standard.criteria],
        },
        "runs": run_section(runs),
        "timetable": timetable(output, year, {d.id: d.name for d in org.departments}),
    }
    if engine is None:
        down = section(BROKEN, "the project database could not be reached")
        out |= {"departments": down, "gaps": down, "history": down, "approvals": down, "review": down, "by_criterion": []}
        out["waiting"] = waiting_section(waiting, {}, down, today)
        out["key_dates"] = key_date_status(None, org, today)
        return out
    gaps, source, gaps_status = latest_gaps(engine, output, year)
    rows = department_rows(engine, org, today, gaps)
    any_activity = any(r["request_sent"] or r["submissions"] for r in rows)
    out["departments"] = section(
        OK if any_activity else NOT_RUN,
        "" if any_activity else "No evidence requests sent and no workbooks received yet",
        rows=rows,
        returned=sum(1 for r in rows if r["returned"]),
        overdue=sum(1 for r in rows if r["overdue"]),
    )
    if gaps is None:
        out["gaps"] = section(gaps_status, source)
    else:
        out["gaps"] = section(
            OK,
            "",
            source=source,
            as_of=as_date(gaps.get("as_of")),
            counts=readiness_counts(gaps),
            accuracy=gaps.get("forecast_accuracy"),  # the forecast rerun on past years against the assessor
            **element_rows(org, gaps, readiness=readiness, criterion=criterion, text=text),
        )
    out["review"] = review_section(engine, org)
    points = readiness_history(engine, year) or history_from_gaps(gaps)
    out["history"] = (
        section(OK, "", points=points, chart=chart(points))
        if points
        else section(NOT_RUN, "Readiness over time appears after the first gap analysis run")
    )
    names = {m.airflow_user: m.name for m in org.quality_team.members if m.airflow_user}
    out["approvals"] = approvals_section(engine, year, names=names)
    out["timetable"] = with_answers(out["timetable"], engine, year)
    out["key_dates"] = key_date_status(engine, org, today)
    out["by_criterion"] = readiness_by_criterion(org, gaps)
    out["waiting"] = waiting_section(waiting, out["departments"], out["gaps"], today)
    return out


def with_answers(timetable: dict[str, Any], engine: Engine, year: int) -> dict[str, Any]:
    """Each session's RSVPs (accepted / declined / tentative / no answer, by name) beside it on the timetable."""
    if timetable.get("status") != OK:
        return timetable
    from reaccreditation.timetable.rsvp import LABEL, answers_by_session

    answers = answers_by_session(engine, year)
    for row in timetable["sessions"]:
        a = answers.get(row.get("uid") or "")
        row["answers"] = (
            {
                "counts": [(LABEL[k], n, k) for k, n in a["counts"].items() if n],
                "people": [(p["name"], LABEL[p["answer"]], p["answer"]) for p in a["people"]],
            }
            if a
            else None
        )
    return timetable


def approvals_section(engine: Engine, year: int, limit: int = 20, names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Sign-offs of timetables, packs and outcomes (who answered, what, when, comment), newest first.

    ``names``: Airflow user -> the person's name from the config, since an auth manager may know a user only
    by the login (the simple auth manager's name is ``priya.raman``)."""
    if not _migrated(engine, "approval_decision"):
        return section(NOT_RUN, "No sign-off asked for yet (the approval table is not created: run the database upgrade)")
    rows = recent_approvals(engine, limit=limit, assessment_year=year)
    if not rows:
        return section(NOT_RUN, "No timetable, pack or outcome has been signed off yet")
    for r in rows:
        if r.get("responded_by") in (names or {}):
            r["responded_by_name"] = (names or {})[r["responded_by"]]
    return section(OK, "", rows=rows)


def as_json(data: Any) -> Any:
    """JSON-ready copy (dates as ISO strings) for the plugin's API."""
    return json.loads(json.dumps(data, default=lambda v: v.isoformat() if isinstance(v, date | datetime) else str(v)))
