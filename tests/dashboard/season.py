"""A season in progress for the demo council: requests, reminders, workbooks, evidence, gap snapshots,
a timetable; written the way the other stages write them (project DB rows, gaps.json, timetable.json).

One department is renamed ``<script>alert(1)</script>`` so every page and email must show it as text.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, inspect, text

from reaccreditation.db.schema import evidence, outbound_message, submission

HOSTILE = "<script>alert(1)</script>"
HOSTILE_ID = "policy-insight"  # the demo department renamed to HOSTILE
RETURNED_ID = "customer-services"  # returned a workbook (accepted)
REJECTED_ID = HOSTILE_ID  # sent a workbook that was rejected
YEAR = 2027


def rename_department(config: Path, department_id: str = HOSTILE_ID, name: str = HOSTILE) -> None:
    import yaml

    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    for d in data["departments"]:
        if d["id"] == department_id:
            d["name"] = name
    config.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def _at(day: str, shift: timedelta = timedelta(0)) -> datetime:
    return datetime.fromisoformat(day).replace(hour=9, tzinfo=UTC) + shift


def fill_database(engine: Engine, department_ids: list[str], shift: timedelta = timedelta(0)) -> None:
    """Requests to every department, reminders to some, one escalation, two workbooks, evidence rows.

    ``shift`` moves every date (a page served on the real today shows a season that already happened).
    """
    messages: list[dict[str, Any]] = []

    def message(kind: str, dept: str, day: str) -> None:
        messages.append(
            {
                "dedupe_key": f"{kind}:{YEAR}:{dept}",
                "assessment_year": YEAR,
                "department_id": dept,
                "kind": kind,
                "recipients": f"{dept}@example.org",
                "subject": f"{kind} {dept}",
                "status": "sent",
                "created_at": _at(day, shift),
                "sent_at": _at(day, shift),
            }
        )

    for dept in department_ids:
        message("request", dept, "2026-11-15")
    for dept in (HOSTILE_ID, "people-od"):
        message("reminder-1", dept, "2026-12-01")
    message("reminder-2", HOSTILE_ID, "2026-12-08")
    message("escalation", HOSTILE_ID, "2026-12-14")
    messages.append(messages[0] | {"dedupe_key": "summary:2027:x", "department_id": None, "kind": "summary"})
    with engine.begin() as conn:
        conn.execute(insert(outbound_message), messages)
        sub = conn.execute(
            insert(submission).values(
                sha256="a" * 64,
                original_name="customer-services-evidence.xlsx",
                assessment_year=YEAR,
                department_id=RETURNED_ID,
                source="inbox",
                received_at=_at("2026-12-01", shift),
                status="accepted",
                rows_total=22,
                rows_accepted=20,
                rows_rejected=2,
            )
        ).inserted_primary_key[0]
        conn.execute(
            insert(submission).values(
                sha256="b" * 64,
                original_name=f"{HOSTILE}.xlsx",
                assessment_year=YEAR,
                department_id=REJECTED_ID,
                source="inbox",
                received_at=_at("2026-12-10", shift),
                status="rejected",
                rows_total=5,
                rows_accepted=0,
                rows_rejected=5,
                message="sheet Evidence, row 3: link is not a URL",
            )
        )
        conn.execute(
            insert(evidence),
            [
                {
                    "assessment_year": YEAR,
                    "department_id": RETURNED_ID,
                    "element_id": element_id,
                    "title": f"Evidence for {element_id}",
                    "evidence_type": "document",
                    "submission_id": sub,
                    "sheet": "Evidence",
                    "row_number": i + 2,
                    "is_current": True,
                    "created_at": _at("2026-12-01", shift),
                }
                for i, element_id in enumerate(["1.1.1", "1.1.2", "1.1.3"])
            ],
        )


# The shape of migration 0003's snapshot table (gap-analysis stage), created here only if that
# migration is not in this checkout yet, so the history chart can be tested either way.
_GAP_SNAPSHOT_DDL = """
CREATE TABLE gap_snapshot (
  id INTEGER PRIMARY KEY, dag_id VARCHAR(250) NOT NULL, run_id VARCHAR(250) NOT NULL,
  assessment_year INTEGER NOT NULL, framework VARCHAR(40) NOT NULL, assessment_type VARCHAR(20) NOT NULL,
  as_of DATE NOT NULL, created_at DATETIME NOT NULL, elements INTEGER NOT NULL, ready INTEGER NOT NULL,
  at_risk INTEGER NOT NULL, gaps INTEGER NOT NULL, score FLOAT NOT NULL, summary JSON NOT NULL)
"""

# Earlier gap analyses; the latest one is the snapshot in gaps.json (see fill_history).
HISTORY = [("2026-12-01", 2, 5, 50), ("2026-12-08", 5, 8, 44)]


def fill_history(engine: Engine, org, shift: timedelta = timedelta(0)) -> None:  # type: ignore[no-untyped-def]
    """Snapshot rows for readiness over time, ending with the counts of gaps.json (as the gap stage stores them)."""
    latest = gaps_payload(org)["elements"]
    counts = [sum(1 for e in latest if e["readiness"] == k) for k in ("ready", "at risk", "gap")]
    with engine.begin() as conn:
        if not inspect(conn).has_table("gap_snapshot"):
            conn.execute(text(_GAP_SNAPSHOT_DDL))
        for i, (iso, ready, at_risk, gaps) in enumerate([*HISTORY, ("2026-12-15", *counts)]):
            day = (date.fromisoformat(iso) + shift).isoformat()
            conn.execute(
                text(
                    "INSERT INTO gap_snapshot (dag_id, run_id, assessment_year, framework, assessment_type, as_of, created_at,"
                    " elements, ready, at_risk, gaps, score, summary) VALUES ('gap_analysis', :run, :year, 'cse', 'surveillance',"
                    " :day, :day, 57, :ready, :at_risk, :gaps, 2.5, '{}')"
                ),
                {"run": f"scheduled__{day}-{i}", "year": YEAR, "day": day, "ready": ready, "at_risk": at_risk, "gaps": gaps},
            )


def gaps_payload(org, shift: timedelta = timedelta(0)) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """A gap snapshot as ``Snapshot.to_dict()`` writes it: elements with readiness, forecast and reasons."""
    elements = []
    returned = set(org.department(RETURNED_ID).elements)
    for i, el in enumerate(org.standard.elements):
        owners = [d.id for d in org.owners(el.id)]
        if el.id in returned and HOSTILE_ID not in owners:
            readiness, reasons = "ready", []
        elif i % 5 == 0:
            readiness = "at risk"
            reasons = [
                {
                    "code": "stale_evidence",
                    "severity": "risk",
                    "message": "Newest evidence is older than the evidence window",
                    "departments": owners,
                }
            ]
        else:
            readiness = "gap"
            reasons = [
                {
                    "code": "no_evidence",
                    "severity": "gap",
                    "message": f"No current evidence from {org.department(o).name}",
                    "departments": [o],
                }
                for o in owners
            ] or [{"code": "unowned", "severity": "gap", "message": "No department owns this element", "departments": []}]
        elements.append(
            {
                "element_id": el.id,
                "title": el.title,
                "criterion_id": el.criterion_id,
                "sub_criterion_id": el.sub_criterion_id,
                "owners": owners,
                "readiness": readiness,
                "forecast": "Compliance" if readiness == "ready" else "Partial Compliance",
                "reasons": reasons,
                "in_focus": i % 7 == 0,
            }
        )
    return {
        "schema": "reaccreditation.gaps/1",
        "organisation": org.organisation.name,
        "assessment_year": YEAR,
        "as_of": (date(2026, 12, 15) + shift).isoformat(),
        "elements": elements,
    }


TIMETABLE = {  # as timetable_json writes it (only the keys the page reads, plus the schema and year)
    "schema": "reaccreditation.timetable/1",
    "assessment_year": YEAR,
    "sessions": [
        {
            "day": 1,
            "date": "2027-03-15",
            "start": "09:30",
            "end": "10:30",
            "uid": "cse-2027-opening-meeting@kestrelvale.example.org",
            "title": "Opening meeting with leadership",
            "where": "Council Chamber",
            "mode": "face_to_face",
            "departments": ["communications"],
            "elements": ["2.1.1"],
        },
        {
            "day": 1,
            "date": "2027-03-15",
            "start": "11:00",
            "end": "12:00",
            "uid": "cse-2027-policy-team@kestrelvale.example.org",
            "title": f"Policy team: {HOSTILE}",
            "where": "Room 2",
            "mode": "virtual",
            "departments": [HOSTILE_ID],
            "elements": ["1.1.1", "1.1.2"],
        },
        {
            "day": 2,
            "date": "2027-03-16",
            "start": "09:30",
            "end": "11:00",
            "uid": "cse-2027-customer-service-centre@kestrelvale.example.org",
            "title": "Site visit: Customer Service Centre",
            "where": "Front desk",
            "mode": "site_visit",
            "departments": [RETURNED_ID],
            "elements": ["4.1.1"],
        },
    ],
}


def write_outputs(output: Path, org, shift: timedelta = timedelta(0)) -> None:  # type: ignore[no-untyped-def]
    gaps = output / str(YEAR) / "gaps" / "gaps.json"
    gaps.parent.mkdir(parents=True, exist_ok=True)
    gaps.write_text(json.dumps(gaps_payload(org, shift)), encoding="utf-8")
    timetable = output / str(YEAR) / "timetable" / "timetable.json"
    timetable.parent.mkdir(parents=True, exist_ok=True)
    timetable.write_text(json.dumps(TIMETABLE), encoding="utf-8")


def today() -> date:
    return date(2026, 12, 16)
