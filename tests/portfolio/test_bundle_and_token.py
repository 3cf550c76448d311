"""The portfolio without Airflow: hostile or altered documents never reach the bundle; download tokens resist
tampering, forgery, a workbook seal passed off as a token, and expire on the configured day."""

from __future__ import annotations

import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from reaccreditation.db import make_engine, upgrade
from reaccreditation.demo.documents import pdf
from reaccreditation.documents.store import Delivery, keep
from reaccreditation.portfolio import download, gather, pipeline, store, token
from reaccreditation.settings import Paths
from reaccreditation.workbook import signature

from ..documents.hostile import docm_renamed_docx, pdf_with_javascript
from ..gaps.helpers import ev, insert_evidence, insert_submission, make_org

KEY = b"portfolio-test-key-long-enough-123"


@pytest.fixture
def register(tmp_path: Path):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'p.db'}"
    upgrade(url)
    engine = make_engine(url)
    yield engine, Paths(tmp_path / "data")
    engine.dispose()


def _names(zip_path: str) -> list[str]:
    with zipfile.ZipFile(zip_path) as z:
        return z.namelist()


def test_refused_and_altered_documents_never_reach_the_bundle(register, tmp_path):
    engine, paths = register
    org = make_org()
    dept = org.departments[0]
    e1, e2, e3 = dept.elements[:3]
    when = datetime.now(UTC)
    delivery = Delivery(2027, dept.id, "inbox", when)
    assert keep(engine, paths, delivery, "good.pdf", pdf("Good", "fine"))["status"] == "kept"
    assert keep(engine, paths, delivery, "script.pdf", pdf_with_javascript())["status"] == "refused"
    assert keep(engine, paths, delivery, "report.docx", docm_renamed_docx())["status"] == "refused"
    altered = keep(engine, paths, delivery, "later-changed.pdf", pdf("Before", "original"))
    Path(altered["stored_path"]).write_bytes(pdf("After", "changed on disk"))  # the store was tampered with
    rows = [
        ev(dept.id, e1, link="good.pdf"),
        ev(dept.id, e2, link="script.pdf; report.docx"),
        ev(dept.id, e3, link="later-changed.pdf", cplus_claim=True, cplus_justification="Praised <b>nationally</b>"),
    ]
    insert_evidence(engine, insert_submission(engine, dept.id), rows)

    built = pipeline.build(org, engine, tmp_path / "out", "t1")
    assert built is not None
    names = [n.split("/", 1)[1] for n in _names(built["zip"])]
    docs = [n for n in names if n.startswith("documents/")]
    assert docs == [f"documents/{e1.split('.')[0]}/{e1}/{dept.id} - good.pdf"]
    index = (Path(built["folder"]) / "index.html").read_text()
    assert "script.pdf: refused by the safety check, not included" in index
    assert "report.docx: refused by the safety check, not included" in index
    assert "later-changed.pdf: refused by the safety check, not included" in index
    assert "Praised &lt;b&gt;nationally&lt;/b&gt;" in index and "<b>nationally" not in index
    gaps = {g["id"]: g["reason"] for g in built["gaps"]}
    assert gaps[e2] == gaps[e3] == "a named document was refused by the safety check" and e1 not in gaps

    # Nothing new: the same version is offered again (never sent), not a second one.
    again = pipeline.build(org, engine, tmp_path / "out", "t2")
    assert again is not None and again["version"] == built["version"] == 1
    assert len(store.versions(engine, 2027)) == 1


def test_only_what_the_review_lets_in_goes_in_and_the_sign_off_says_what_was_left_out(register, tmp_path):
    """portfolio.include = accepted (the default): an accepted item goes in with who reviewed it and when; an
    unreviewed, a sent-back and a not-relevant item stay out, and the approval page counts them by why.
    accepted_and_unreviewed lets the unreviewed one in, marked as not reviewed; the other two never go in."""
    from openpyxl import load_workbook

    from reaccreditation.db.schema import evidence
    from reaccreditation.demo import build_config
    from reaccreditation.organisation.config import parse_organisation
    from reaccreditation.review import store as review

    engine, paths = register
    config = build_config(date(2027, 3, 15))
    config["portfolio"] = {}  # the default a real config has
    org = parse_organisation(config)
    assert org.portfolio.include == "accepted"
    dept = org.departments[0]
    e1, e2, e3, e4 = dept.elements[:4]
    link = "https://example.org/evidence"
    titles = {e1: "Accepted survey", e2: "Unreviewed plan", e3: "Sent-back minutes", e4: "Irrelevant leaflet"}
    keep(engine, paths, Delivery(2027, dept.id, "inbox", datetime.now(UTC)), "survey.pdf", pdf("Survey", "results"))
    rows = [ev(dept.id, e, link="survey.pdf" if e == e1 else link, title=t) for e, t in titles.items()]
    insert_evidence(engine, insert_submission(engine, dept.id), rows)
    with engine.connect() as conn:
        ids = dict(conn.execute(select(evidence.c.element_id, evidence.c.id)).all())
    at = datetime(2027, 2, 1, 9, 30, tzinfo=UTC)
    for element, to, comment in ((e1, "accepted", None), (e3, "needs_work", "No dates"), (e4, "not_relevant", None)):
        review.record(engine, ids[element], seen_state="unreviewed", seen_version=0, to_state=to, comment=comment,
                      reviewer="priya.raman", reviewer_name="Priya Raman", now=at)  # fmt: skip

    built = pipeline.build(org, engine, tmp_path / "out", "t1")
    assert built is not None
    index = (Path(built["folder"]) / "index.html").read_text()
    assert "Accepted survey" in index and "Accepted by Priya Raman, 1 February 2027, 09:30 GMT" in index
    assert not any(t in index for t in ("Unreviewed plan", "Sent-back minutes", "Irrelevant leaflet"))
    gaps = {g["id"]: g["reason"] for g in built["gaps"]}
    assert gaps[e2] == gaps[e3] == gaps[e4] == "no evidence item accepted by the quality team yet" and e1 not in gaps
    sheet = load_workbook(Path(built["folder"]) / "portfolio.xlsx")[f"Criterion {e1.split('.')[0]}"]
    notes = {row[0]: row[4] for row in sheet.iter_rows(min_row=2, values_only=True) if row[2] == "Accepted survey"}
    assert "Accepted by Priya Raman, 1 February 2027, 09:30 GMT" in notes[e1]
    assert built["left_out"] == {"needs_work": 1, "not_relevant": 1, "unreviewed": 1}
    assert (
        "Included: accepted items only (`portfolio.include`). 3 evidence item(s) left out: 1 sent back to the department "
        "(needs work), 1 marked not relevant to its element, 1 not reviewed yet (portfolio.include is 'accepted')."
    ) in built["approval_body"]

    config["portfolio"] = {"include": "accepted_and_unreviewed"}
    org = parse_organisation(config)
    built = pipeline.build(org, engine, tmp_path / "out", "t2")
    assert built is not None and built["version"] == 2
    index = (Path(built["folder"]) / "index.html").read_text()
    assert "Unreviewed plan" in index and "Not reviewed yet by the quality team" in index
    assert "Sent-back minutes" not in index and "Irrelevant leaflet" not in index
    assert built["left_out"] == {"needs_work": 1, "not_relevant": 1}
    assert (
        "accepted items and items not reviewed yet" in built["approval_body"]
        and "2 evidence item(s) left out" in built["approval_body"]
    )
    # a review that changes no item count still says what changed for the assessor
    before = gather.summary(gather.gather(org, engine))
    review.record(engine, ids[e2], seen_state="unreviewed", seen_version=0, to_state="accepted", comment=None,
                  reviewer="tom.hollis", reviewer_name="Tom Hollis", now=at)  # fmt: skip
    now = gather.summary(gather.gather(org, engine))
    assert gather.changes(before, now, {e2: "Title"}) == [f"{e2} Title: the quality team's review of its evidence changed"]


def test_summary_changes_in_words():
    before = {"1.1.1": {"covered": False, "documents": [], "links": [], "ratings": [], "cplus": [], "statements": [], "items": 0}}
    now = {
        "1.1.1": before["1.1.1"] | {"covered": True, "documents": ["a.pdf 0123456789ab"], "items": 1, "ratings": ["Compliance"]}
    }
    lines = gather.changes(before, now, {"1.1.1": "Profile"})
    assert lines == [
        "1.1.1 Profile: now evidenced",
        "1.1.1 Profile: new or replaced document(s) a.pdf",
        "1.1.1 Profile: self-rating now Compliance (was none)",
    ]
    assert gather.changes(None, now, {}) == []


def test_tokens_resist_tampering_and_expire(register):
    engine, _ = register
    now = datetime(2027, 3, 1, 12, tzinfo=UTC)
    end = token.expiry(date(2027, 3, 19), 14)
    assert end == datetime(2027, 4, 2, 23, tzinfo=UTC)  # midnight after 2 April, British Summer Time
    grant = token.Grant(2027, 3, "assessor@example.com", int(end.timestamp()), token.millis(now))
    good = token.issue(KEY, grant)
    assert token.verify(KEY, good, now) == grant
    assert token.verify(KEY, good, end - timedelta(seconds=1)) == grant
    with pytest.raises(token.ExpiredToken):
        token.verify(KEY, good, end)
    payload, sig = good.split(".")
    import base64
    import json

    raw = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    for changed in ({"v": 4}, {"exp": raw["exp"] + 86400 * 365}, {"to": "someone@else.example"}):
        body = base64.urlsafe_b64encode(json.dumps(raw | changed, separators=(",", ":")).encode()).rstrip(b"=").decode()
        with pytest.raises(token.BadToken):
            token.verify(KEY, f"{body}.{sig}", now)
    seal = signature.sign(KEY, {"organisation": "x", "department_id": "y", "assessment_year": 2027, "request_reference": "r"})
    for bad in (
        f"{payload}.{sig[::-1]}",
        token.issue(b"another-key-entirely-0000000", grant),
        f"{payload}.{seal}",
        "",
        ".",
        good + "x",
    ):
        with pytest.raises(token.BadToken):
            token.verify(KEY, bad, now)

    # The download answer: a version that is not kept is a 404, logged like every other request.
    answer = download.answer(engine, KEY, good, now, client="127.0.0.1", user_agent="test")
    assert (answer.status, answer.outcome) == (404, "missing")
    [row] = store.downloads(engine)
    assert (
        row["outcome"] == "missing" and row["recipient"] == "assessor@example.com" and row["token_sha256"] == token.digest(good)
    )
