"""The portfolio without Airflow: hostile or altered documents never reach the bundle; download tokens resist
tampering, forgery, a workbook seal passed off as a token, and expire on the configured day."""

from __future__ import annotations

import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

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
    grant = token.Grant(2027, 3, "assessor@example.com", int(end.timestamp()))
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
