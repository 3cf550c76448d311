"""The page's data and HTML without Airflow: empty season, season in progress, filter, escaping."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime

from reaccreditation.dashboard import page as dashboard
from reaccreditation.db import make_engine
from reaccreditation.organisation.config import load_organisation
from reaccreditation.render import render

from . import season as s

RUNS = [
    {"dag_id": "organisation_summary", "dag_url": "/dags/organisation_summary", "run_id": None},
    {
        "dag_id": "organisation_summary",
        "dag_name": "Check the config and key dates",
        "dag_url": "/dags/organisation_summary",
        "run_id": "manual__1",
        "state": "success",
        "run_after": "2026-12-01T09:00:00",
        "url": "/dags/organisation_summary/runs/manual__1",
    },
    {
        "dag_id": "organisation_summary",
        "dag_url": "/dags/organisation_summary",
        "run_id": "manual__2",
        "state": "failed",
        "run_after": "2026-12-02T09:00:00",
        "url": "/dags/organisation_summary/runs/manual__2",
    },
    {"dag_id": "gap_analysis", "dag_url": "/dags/gap_analysis", "run_id": None},
]


def test_a_new_season_shows_not_run_yet_everywhere(demo, project_db):
    org = load_organisation(demo["config"], date(2026, 11, 1))
    data = dashboard.gather(make_engine(project_db), org, date(2026, 11, 1), demo["data"] / "output", runs=[])
    assert data["assessment"]["days_to_go"] == 134
    for key in ("departments", "gaps", "history", "timetable", "runs", "approvals", "review"):
        assert data[key]["status"] == "not_run", key
    assert "No gap analysis for 2027 yet" in data["gaps"]["message"]
    assert all(r["request_sent"] is None and r["open_source"] == "no evidence yet" for r in data["departments"]["rows"])
    html = render("dashboard.html", d=data)
    assert html.count("Not run yet.") == 7
    assert "134" in html and "days until the assessment" in html


def test_unreadable_sources_are_reported_not_raised(demo):
    org = load_organisation(demo["config"], date(2026, 11, 1))
    output = demo["data"] / "output"
    (output / "2027" / "timetable").mkdir(parents=True)
    (output / "2027" / "timetable" / "timetable.json").write_text("{half a file")
    data = dashboard.gather(None, org, date(2026, 11, 1), output, runs=None)
    assert data["timetable"]["status"] == "broken" and "timetable.json could not be read" in data["timetable"]["message"]
    assert data["runs"]["status"] == "broken"
    assert data["departments"]["message"] == "the project database could not be reached"
    assert "Department status unavailable" in render("dashboard.html", d=data)


def test_season_in_progress(season):
    org = season["org"]
    data = dashboard.gather(season["engine"], org, s.today(), season["output"], runs=RUNS)
    rows = {r["id"]: r for r in data["departments"]["rows"]}
    returned, hostile = rows[s.RETURNED_ID], rows[s.HOSTILE_ID]
    assert returned["request_sent"] == date(2026, 11, 15) and returned["reminders"] == []
    assert returned["last_submission"]["status"] == "accepted" and returned["returned"] is True
    assert (returned["accepted_rows"], returned["rejected_rows"]) == (3, 2)  # its 3 current rows; 2 rejected last time
    assert hostile["name"] == s.HOSTILE
    assert hostile["reminders"] == [date(2026, 12, 1), date(2026, 12, 8)] and hostile["escalated"] == date(2026, 12, 14)
    assert hostile["returned"] is False and hostile["rejected_rows"] == 5 and hostile["overdue"] is False
    assert data["departments"]["returned"] == 1
    # open elements follow the gap snapshot: every owned element that is not ready
    gaps = json.loads((season["output"] / "2027" / "gaps" / "gaps.json").read_text())
    not_ready = {e["element_id"] for e in gaps["elements"] if e["readiness"] != "ready"}
    assert hostile["open_elements"] == [e for e in org.department(s.HOSTILE_ID).elements if e in not_ready]
    assert hostile["open_source"] == "gap analysis"

    assert data["gaps"]["counts"]["elements"] == 57 and data["gaps"]["shown"] == data["gaps"]["total"] == 57
    assert sum(data["gaps"]["counts"][k] for k in dashboard.READINESS) == 57
    assert [p["ready"] for p in data["history"]["points"]] == [2, 5, data["gaps"]["counts"]["ready"]] == [2, 5, 7]
    assert len(data["timetable"]["sessions"]) == 3 and data["timetable"]["sessions"][0]["where"] == "Council Chamber"
    runs = {g["dag_id"]: g for g in data["runs"]["dags"]}
    assert [r["run_id"] for r in runs["organisation_summary"]["runs"]] == ["manual__2", "manual__1"]
    assert runs["gap_analysis"]["runs"] == []
    assert (runs["organisation_summary"]["name"], runs["gap_analysis"]["name"]) == (
        "Check the config and key dates",
        "gap_analysis",
    )


def test_after_the_return_deadline_non_returners_are_overdue(season):
    rows = dashboard.overdue_departments(season["engine"], season["org"], date(2027, 1, 25))
    ids = [r["id"] for r in rows]
    assert s.HOSTILE_ID in ids and s.RETURNED_ID not in ids and len(ids) == 11


def test_filter_by_readiness_criterion_and_text(season):
    org = season["org"]
    data = dashboard.gather(season["engine"], org, s.today(), season["output"], runs=[], readiness="at risk", criterion="1")
    shown = [e for c in data["gaps"]["criteria"] for e in c["elements"]]
    assert shown and all(e["readiness"] == "at risk" and e["id"].startswith("1.") for e in shown)
    assert data["gaps"]["shown"] == len(shown) < data["gaps"]["total"]
    data = dashboard.gather(season["engine"], org, s.today(), season["output"], runs=[], text="<SCRIPT>")
    shown = [e for c in data["gaps"]["criteria"] for e in c["elements"]]
    assert shown and all(s.HOSTILE in " ".join(e["owners"]) for e in shown)
    assert set(org.department(s.HOSTILE_ID).elements) == {e["id"] for e in shown}


def test_page_escapes_names_and_draws_the_chart(season):
    data = dashboard.gather(season["engine"], season["org"], s.today(), season["output"], runs=RUNS)
    html = render("dashboard.html", d=data)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    svg = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    assert svg.count("<polyline") == 3 and "Ready (now 7)" in svg
    assert 'href="/dags/organisation_summary/runs/manual__2" target="_top"' in html
    json.dumps(dashboard.as_json(data))  # the API's body


def test_a_broken_config_page_names_the_problem_as_text():
    html = render(
        "dashboard_error.html", message="organisation.yaml: 1 problem(s):\n  - departments[0].name: <img src=x onerror=alert(1)>"
    )
    assert "departments[0].name: &lt;img src=x onerror=alert(1)&gt;" in html and "<img" not in html
    assert "cannot be used" in html


def test_sign_offs_are_shown_with_who_what_when_and_comment(demo, project_db):
    from datetime import UTC, datetime

    from reaccreditation.approvals.decisions import Decision, record

    org = load_organisation(demo["config"])
    engine = make_engine(project_db)
    page = render("dashboard.html", d=dashboard.gather(engine, org, date(2027, 2, 13), demo["data"] / "output", runs=[]))
    assert "No timetable, pack or outcome has been signed off yet" in page
    when = datetime(2027, 2, 13, 9, 30, tzinfo=UTC)
    common = dict(
        assessment_year=2027,
        dag_id="readiness_pack",
        task_id="approve_pack",
        item_kind="readiness_pack",
        item_ref="packs/2027-02-12",
    )
    record(
        engine,
        Decision("rejected", "Reject", "priya.raman", "Priya Raman", when, "Top gaps <b>wrong</b>"),
        subject="Readiness pack T-30",
        run_id="r1",
        **common,
    )
    record(engine, Decision("timed_out", None, None, None, None, None), subject="Readiness pack T-23", run_id="r2", **common)
    data = dashboard.gather(engine, org, date(2027, 2, 20), demo["data"] / "output", runs=[])
    assert data["approvals"]["status"] == "ok" and len(data["approvals"]["rows"]) == 2
    page = render("dashboard.html", d=data)
    assert "Readiness pack T-30" in page and "Priya Raman" in page and "Top gaps &lt;b&gt;wrong&lt;/b&gt;" in page
    assert "nobody (no answer in time)" in page


def test_rows_count_the_current_version_only(season):
    """A corrected workbook (version 2) replaces a row of the first: the replaced row is no longer counted."""
    from sqlalchemy import insert, update

    from reaccreditation.db.schema import evidence, submission

    org, engine = season["org"], season["engine"]
    with engine.begin() as conn:
        conn.execute(update(evidence).where(evidence.c.element_id == "1.1.1").values(is_current=False))
        new = conn.execute(
            insert(submission).values(
                sha256="d" * 64,
                original_name="customer-services-evidence.xlsx",
                assessment_year=2027,
                department_id=s.RETURNED_ID,
                source="inbox",
                received_at=datetime(2026, 12, 20, 9, tzinfo=UTC),
                status="accepted",
                rows_total=1,
                rows_accepted=1,
                rows_rejected=0,
                version=2,
            )
        ).inserted_primary_key[0]
        conn.execute(
            insert(evidence).values(
                assessment_year=2027,
                department_id=s.RETURNED_ID,
                element_id="1.1.1",
                title="Corrected evidence for 1.1.1",
                evidence_type="document",
                submission_id=new,
                sheet="Evidence",
                row_number=2,
                is_current=True,
                created_at=datetime(2026, 12, 20, 9, tzinfo=UTC),
            )
        )
    [row] = [r for r in dashboard.department_rows(engine, org, s.today()) if r["id"] == s.RETURNED_ID]
    assert (row["accepted_rows"], row["rejected_rows"], row["submissions"]) == (3, 0, 2)  # not 20 + 1 (or 3 + 1)


def test_review_progress_per_department_links_to_its_queue(season):
    """Counts per state and the share reviewed, per department and overall; the name opens the filtered queue."""
    from sqlalchemy import select

    from reaccreditation.db.schema import evidence
    from reaccreditation.review import store as review

    engine = season["engine"]
    with engine.connect() as conn:
        ids = (
            conn.execute(select(evidence.c.id).where(evidence.c.department_id == s.RETURNED_ID, evidence.c.is_current.is_(True)))
            .scalars()
            .all()
        )
    assert len(ids) == 3
    for item, to in zip(ids, ("accepted", "needs_work"), strict=False):
        review.record(engine, item, seen_state="unreviewed", seen_version=0, to_state=to, comment="Add the dates",
                      reviewer="priya.raman", reviewer_name="Priya Raman")  # fmt: skip
    data = dashboard.gather(engine, season["org"], s.today(), season["output"], runs=RUNS)
    section = data["review"]
    assert section["status"] == "ok"
    rows = {r["id"]: r for r in section["rows"]}
    mine = rows[s.RETURNED_ID]
    assert mine["counts"] == {"unreviewed": 1, "accepted": 1, "needs_work": 1, "not_relevant": 0}
    assert (mine["reviewed"], mine["total"], mine["reviewed_pct"]) == (2, 3, 67)
    assert section["reviewed"] == 2 and section["total"] == sum(r["total"] for r in section["rows"])
    html = render("dashboard.html", d=data)
    assert f'<a href="review?department={s.RETURNED_ID}">' in html and "<strong>67%</strong>" in html
    assert f"{section['reviewed_pct']}%</b><span>evidence items reviewed (2 of {section['total']})" in html
    part = html.split('id="review-progress"')[1].split("</table>")[0]
    assert rows[s.HOSTILE_ID]["name"] == s.HOSTILE and "&lt;script&gt;alert(1)&lt;/script&gt;</a>" in part
    assert "<script" not in part
