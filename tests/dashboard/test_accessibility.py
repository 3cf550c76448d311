"""axe-core (tests/node) in Debian's Chromium over every HTML email and page the project renders: 0 WCAG A/AA.

Every HTML template is rendered by the code that sends or serves it, from a season in progress (the
``season`` fixture: requests, workbooks, gaps, a timetable; one department named ``<script>...``):
requests, reminders, escalations, intake replies (accepted, partial, duplicate, to the quality team),
mailbox answers, timetable invites (participant, assessor, covering email, a change), the RSVP at-risk
note, failure/overdue/approval alerts, the season summary, the gap summary page, leadership and
department packs, and the dashboard with its sign-in and config-error pages. Each is opened in Chromium
at 1400 px and at 390 px (a phone), and axe runs there.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from reaccreditation.dashboard import page as dashboard
from reaccreditation.mail import compose as mail
from reaccreditation.render import render

from ..conftest import ROOT
from . import season as s
from .browser import Browser, chromium_binary

AXE = ROOT / "tests" / "node" / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
TEMPLATES = ROOT / "include" / "reaccreditation" / "templates"
TEMPLATE_OF = {
    "request": "request_request",
    "reminder": "request_reminder",
    "escalation": "request_escalation",
    "intake_accepted": "intake_reply",
    "intake_partial": "intake_reply",
    "intake_duplicate": "intake_reply",
    "intake_quality": "intake_quality",
    "mailbox_answer": "mailbox_answer",
    "mailbox_quality": "mailbox_quality",
    "timetable_invite": "timetable_invite",
    "timetable_chair": "timetable_invite",
    "timetable_update": "timetable_invite",
    "timetable_cancel": "timetable_invite",
    "timetable_covering_changed": "timetable_assessor",
    "rsvp_at_risk": "rsvp_at_risk",
    "alert_failure": "alert_failure",
    "digest_overdue": "digest_overdue",
    "approval_alert": "approval_alert",
    "dashboard": "dashboard",
    "dashboard_denied": "dashboard_denied",
    "dashboard_error": "dashboard_error",
    "summary": "summary",
    "gap_summary": "gap_summary",
    "pack_leadership": "pack_leadership",
    "pack_department": "pack_department",
    "portfolio_index": "portfolio_index",
    "portfolio_assessor": "portfolio_assessor",
    "review_queue": "review_queue",
    "review_round": "review_round",
}


def _html(msg: Any) -> str:
    return msg.get_body(("html",)).get_content()


def _emails(season: dict[str, Any], tmp_path: Path) -> dict[str, str]:
    """One HTML body per kind of email, built by the code that sends it."""
    from reaccreditation.dashboard.alerts import Audience, Failure, digest_draft, failure_draft
    from reaccreditation.intake.replies import build_reply
    from reaccreditation.mailbox.answers import answer
    from reaccreditation.organisation.config import load_organisation
    from reaccreditation.requests.emails import element_lines, escalation_draft, reminder_draft, request_draft
    from reaccreditation.timetable import pipeline
    from reaccreditation.timetable.solution import Timetable

    org = load_organisation(season["config"], s.today())
    dept = org.department(s.HOSTILE_ID)
    lines = element_lines(org, list(dept.elements[:3]), {dept.elements[0]: "Partial Compliance"})
    today = s.today()
    out: dict[str, str] = {}
    build = mail.build_message
    contact = dept.evidence_contacts[0]
    out["request"] = _html(
        build(
            request_draft(
                org, dept, contact, workbook=b"PK", file_name="book.xlsx", open_elements=lines, prefilled=2, today=today
            )
        )
    )
    out["reminder"] = _html(build(reminder_draft(org, dept, contact, number=1, open_elements=lines, today=today)))
    out["escalation"] = _html(build(escalation_draft(org, dept, open_elements=lines, today=today)))

    sub = {
        "id": 1,
        "department_id": dept.id,
        "assessment_year": 2027,
        "original_name": "housing.xlsx",
        "sha256": "ab" * 32,
        "received_at": datetime(2027, 1, 20, 10, 5, tzinfo=UTC),
        "request_reference": "REQ-2027-x",
        "status": "partial",
        "message": "20 of 22 evidence rows accepted; 2 row(s) need correcting (2 problem(s))",
        "annotated_path": None,
        "quarantine_path": None,
        "details": {
            "issues": [
                {
                    "row": 4,
                    "column": "Date of evidence",
                    "problem": "1 March 2019 is before the evidence window, which starts on 15 March 2026",
                    "rule": "expect_column_values_to_be_between",
                    "text": "Sheet Evidence, row 4, column 'Date of evidence': 1 March 2019 is before the evidence window",
                }
            ],
            "issue_count": 1,
            "notes": ["columns not recognised and ignored: Extra"],
            "elements_without_evidence": ["1.1.2"],
        },
    }
    for status in ("accepted", "partial", "duplicate"):
        out[f"intake_{status}"] = _html(build_reply(org, sub | {"status": status}, status=status, receipt_id=1).message)
    out["intake_quality"] = _html(
        build_reply(org, sub | {"department_id": None, "status": "quarantined"}, status="quarantined", receipt_id=2).message
    )
    mail_row = {
        "subject": "Re: Evidence request",
        "received_at": datetime(2027, 1, 20, 9, 0, tzinfo=UTC),
        "request_reference": "REQ-2027-x",
        "details": {
            "files": ["notes.pdf, 1,024 bytes"],
            "headline": "We received your email, but nothing was attached.",
            "advice": "Reply with the workbook.",
        },
        "sender": contact.email,
        "message_key": "<m1@example.org>",
        "reason": "",
        "eml_path": "/archive/m1.eml",
        "department_id": dept.id,
        "references": "",
    }
    out["mailbox_answer"] = _html(answer(org, mail_row | {"handling": "no_workbook"})[0])
    out["mailbox_quality"] = _html(answer(org, mail_row | {"handling": "stranger", "sender": "sam@elsewhere.example.net"})[0])

    planned = pipeline.plan(org, season["engine"], seconds=2)
    folder = tmp_path / "timetable"
    pipeline.publish(org, season["engine"], planned, folder, "a11y-1")
    sent: list[Any] = []
    pipeline.send(org, season["engine"], sent.append, planned, folder, "a11y-1")
    assessor = {a.email for a in org.timetable.assessors} if org.timetable.assessors else {org.assessment.assessor.email}
    out["timetable_invite"] = _html(next(m for m in sent if m["To"].addresses[0].addr_spec not in assessor))
    out["timetable_chair"] = _html(
        next(m for m in sent if m["To"].addresses[0].addr_spec in assessor and "Invitation" in m["Subject"])
    )
    t = Timetable.from_dict(planned["timetable"])
    moved = replace(
        t,
        placements=tuple(
            replace(p, start=p.start + 30, end=p.end + 30) if i == 1 else p for i, p in enumerate(t.placements[:-1])
        ),
    )
    again = planned | {"timetable": moved.to_dict()}
    pipeline.publish(org, season["engine"], again, folder, "a11y-2")
    sent.clear()
    pipeline.send(org, season["engine"], sent.append, again, folder, "a11y-2")
    out["timetable_update"] = _html(next(m for m in sent if m["Subject"].startswith("Updated")))
    out["timetable_cancel"] = _html(next(m for m in sent if m["Subject"].startswith("Cancelled")))
    out["timetable_covering_changed"] = _html(
        next(m for m in sent if "timetable" in m["Subject"] and m["Subject"].startswith("Changed"))
    )
    out["rsvp_at_risk"] = render(
        "rsvp_at_risk.html",
        organisation=org.organisation.name,
        title="Vale Homes",
        date=org.assessment.first_day,
        start="10:00",
        end="11:00",
        name="Rita Gomez",
        email="rita@example.org",
        comment="On leave",
        session_key="vale-homes",
    )

    who = Audience(tuple(mail.address(m.name, m.email) for m in org.quality_team.members), "Kestrel Vale", 2027, mail.sender(org))
    failure = Failure(
        "evidence_intake", "scheduled__1", "sweep_inbox", 1, -1, datetime(2027, 1, 20, tzinfo=UTC), "http://localhost/log", "boom"
    )
    from reaccreditation.review.item import Item
    from reaccreditation.review.round import Round, compose

    e = dept.elements
    found = Round(dept.id, 2027, 9)
    found.accepted = [Item(1, e[0], "Complaints policy", "accepted", None, "Priya Raman", {})]
    found.not_relevant = [Item(2, e[1], "Old minutes", "not_relevant", "About <i>complaints</i>", "Priya Raman", {})]
    found.to_improve = [
        Item(3, e[2], "Survey", "needs_work", "<b>2024</b>: send this year's", "Priya Raman", {}),
        Item(4, e[2], "Plan", "needs_work", "No owner", "Tom Hollis", {}, new=False),
    ]
    found.kept = [Item(5, e[2], "Leaflet", "accepted", None, "Priya Raman", {})]
    out["review_round"] = _html(compose(org, found, None, b"PK", "Evidence to improve.xlsx", today))
    out["alert_failure"] = _html(build(failure_draft(failure, who)))
    overdue = dashboard.overdue_departments(season["engine"], org, org.return_deadline + timedelta(days=3))
    out["digest_overdue"] = _html(build(digest_draft(org, org.return_deadline + timedelta(days=3), overdue)))
    out["approval_alert"] = render(
        "approval_alert.html",
        title="Approval needed: timetable",
        what="The timetable waits for your sign-off.",
        decision_label="Waiting for an answer",
        who=None,
        when=None,
        comment=None,
        dag_id="assessment_timetable",
        run_id="r1",
        link="http://localhost:8080/",
        link_label="Answer in Airflow",
        next_step="Approve, re-plan or reject.",
        stopped=False,
    )
    return out


def _pages(season: dict[str, Any], tmp_path: Path) -> dict[str, str]:
    """The pages: dashboard (and its sign-in/config pages), season summary, gap summary, packs."""
    from reaccreditation.dates import with_dates
    from reaccreditation.gaps.analysis import analyse
    from reaccreditation.gaps.store import load_inputs
    from reaccreditation.organisation.config import load_organisation
    from reaccreditation.organisation.summary import summarise
    from reaccreditation.packs import sources
    from reaccreditation.packs.render import render_pack
    from reaccreditation.packs.schedule import current_pack
    from reaccreditation.packs.screenshot import local_html

    org = load_organisation(season["config"], s.today())
    review_queue = _review_queue(org, season["engine"])  # first: the dashboard then shows review progress
    out = {"dashboard": render("dashboard.html", d=dashboard.gather(season["engine"], org, s.today(), season["output"], runs=[]))}
    out["dashboard_denied"] = render("dashboard_denied.html", status=401, login="/auth/login")
    out["dashboard_error"] = render("dashboard_error.html", message="organisation.yaml: 1 problem(s)")
    summary = json.loads(json.dumps(summarise(org, s.today()), default=str))  # as XCom carries it to the page
    out["summary"] = render("summary.html", s=with_dates(summary))
    inputs = load_inputs(season["engine"], org.assessment.year)
    snapshot = analyse(org, inputs["evidence"], inputs["submissions"], inputs["outcomes"], s.today())
    out["gap_summary"] = render(
        "gap_summary.html",
        g=json.loads(json.dumps(snapshot.to_dict(), default=str)) | {"snapshot_id": 1, "readiness_history": []},
    )
    when = org.assessment.first_day - timedelta(days=30)
    pack = current_pack(org, when)
    manifest = render_pack(
        org, sources.load(org, season["engine"], tmp_path / "no-files", pack.pack_date), pack, when, tmp_path / "packs"
    )
    folder = Path(manifest["folder"])
    for i in range(2):
        out[f"pack_{'leadership' if i == 0 else 'department'}"] = local_html(folder, i).read_text(encoding="utf-8")
    out |= _portfolio(org, season["engine"], tmp_path)
    out["review_queue"] = review_queue
    return out


def _review_queue(org: Any, engine: Any) -> str:
    """The review queue as a reviewer sees it: one item sent back (a comment with markup), one accepted, forms."""
    from reaccreditation.review import page, store

    items = store.queue(engine, org.assessment.year)
    assert len(items) >= 2
    store.record(engine, items[0]["evidence_id"], seen_state="unreviewed", seen_version=0, to_state="needs_work",
                 comment="<b>Out of date</b> & unsigned", reviewer="priya.raman", reviewer_name="Priya Raman")  # fmt: skip
    store.record(engine, items[1]["evidence_id"], seen_state="unreviewed", seen_version=0, to_state="accepted",
                 comment=None, reviewer="priya.raman", reviewer_name="Priya Raman")  # fmt: skip
    q = page.gather(org, engine, "priya.raman", b"k" * 32)
    prefix = "/reaccreditation"
    q |= {"done": "Saved.", "problem": "", "home": f"{prefix}/", "self": f"{prefix}/review", "post": f"{prefix}/api/review"}
    q["round_post"] = f"{prefix}/api/review-round"
    change = {"field": "Link or file name", "old": "https://a.example.org/1", "new": "https://a.example.org/<2>"}
    q["items"][1]["resubmission"] = {"replaces": 1, "sent_back_by": "Priya Raman", "comment": "Too old", "changes": [change]}
    html = render("review_queue.html", q=q)
    assert "&lt;b&gt;Out of date&lt;/b&gt; &amp; unsigned" in html and "<b>Out of" not in html
    return html


def _portfolio(org: Any, engine: Any, tmp_path: Path) -> dict[str, str]:
    """The assessor's portfolio index (with a "what changed" list) and the email it goes out with."""
    from reaccreditation.portfolio import bundle, gather, pipeline

    built = pipeline.build(org, engine, tmp_path / "portfolio", "a11y")
    assert built is not None
    sent: list[Any] = []
    pipeline.send(
        org,
        engine,
        sent.append,
        built | {"previous": 1, "changes": ["1.1.1: now evidenced"]},
        signing_key=b"k" * 32,
        base_url="http://localhost:8080",
    )
    changed = ["1.1.1 Profile of customers: now evidenced", "2.1.1 Customer insight: self-rating now Compliance (was none)"]
    page = bundle.index_html(org, gather.gather(org, engine), 2, datetime(2027, 2, 12, 9, 30), changed)
    return {"portfolio_index": page, "portfolio_assessor": _html(sent[0])}


def _axe(browser: Browser, html: str, path: Path) -> list[dict[str, Any]]:
    path.write_text(html, encoding="utf-8")
    browser.open(path.as_uri())
    browser.evaluate(AXE.read_text(encoding="utf-8"))
    run = "axe.run(document, {runOnly: {type: 'tag', values: TAGS}})".replace("TAGS", json.dumps(TAGS))
    keep = "v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.html.slice(0, 160))})"
    return browser.evaluate(f"{run}.then(r => r.violations.map({keep}))")


@pytest.mark.skipif(chromium_binary() is None and not os.environ.get("CI"), reason="Chromium missing: scripts/install-browser")
def test_every_html_email_and_page_has_no_wcag_a_or_aa_violation(season, tmp_path):
    assert AXE.exists(), "axe-core is not installed: scripts/install-node-tools (scripts/test runs it)"
    emails = _emails(season, tmp_path)
    pages = _pages(season, tmp_path)
    rendered = emails | pages
    templates = {p.stem for p in TEMPLATES.glob("*.html")} - {"pack_macros", "request_base"}
    assert set(TEMPLATE_OF.values()) == templates, sorted(templates ^ set(TEMPLATE_OF.values()))  # a new template joins here
    assert set(rendered) == set(TEMPLATE_OF)
    for html in emails.values():
        assert '<html lang="en">' in html and "<title>" in html and 'name="viewport"' in html
    found: dict[str, Any] = {}
    shots = Path(os.environ.get("A11Y_SCREENSHOTS", tmp_path / "shots"))
    for width in (1400, 390):
        browser = Browser(width=width, height=900)
        if width < 500:  # headless windows are at least 500 wide: emulate the phone's viewport instead
            browser.send(
                "Emulation.setDeviceMetricsOverride", {"width": width, "height": 844, "deviceScaleFactor": 1, "mobile": True}
            )
        try:
            for name, html in rendered.items():
                violations = _axe(browser, html, tmp_path / f"{name}-{width}.html")
                if violations:
                    found[f"{name} at {width}px"] = violations
                if name.startswith(("timetable", "mailbox_answer", "intake_partial", "rsvp")):
                    browser.screenshot(shots / f"{name}-{width}.png")
                if name == "dashboard":  # review progress, as docs/dashboard.md shows it (UPDATE_DOCS=1 refreshes it)
                    wide = browser.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
                    assert wide <= 0, f"the dashboard scrolls sideways at {width}px"
                    browser.evaluate("document.getElementById('review-progress').scrollIntoView(); window.scrollBy(0, -12)")
                    shot = browser.screenshot(shots / f"dashboard-review-{width}.png", full_page=False)
                    if os.environ.get("UPDATE_DOCS"):
                        docs = ROOT / "docs"
                        shutil.copyfile(shot, docs / ("dashboard-review-phone.png" if width < 500 else "dashboard-review.png"))
        finally:
            browser.close()
    assert found == {}, json.dumps(found, indent=1)[:4000]
