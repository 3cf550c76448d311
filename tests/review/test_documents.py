"""Opening a kept document from the queue: only the item's own, kept file; every other path is refused.

The attacks: a path out of the store (``../``), another department's document under the same name, a file
the item does not name, a document the safety checks refused, and a store row pointing outside the store.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import update

from reaccreditation.dashboard.files import document_headers
from reaccreditation.db import make_engine, upgrade
from reaccreditation.db.schema import evidence_document
from reaccreditation.demo.documents import pdf
from reaccreditation.documents.store import Delivery, keep
from reaccreditation.review import documents, store
from reaccreditation.settings import Paths

from ..documents.hostile import pdf_with_javascript
from ..gaps.helpers import ev, insert_evidence, insert_submission

NOW = datetime(2027, 1, 10, 9, tzinfo=UTC)


@pytest.fixture
def kept(tmp_path: Path):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'r.db'}"
    upgrade(url)
    engine = make_engine(url)
    paths = Paths(tmp_path / "data")
    housing, adults = Delivery(2027, "housing", "inbox", NOW), Delivery(2027, "adult-social-care", "inbox", NOW)
    keep(engine, paths, housing, "Minutes 2026.pdf", pdf("Minutes", "housing"))
    keep(engine, paths, housing, "script.pdf", pdf_with_javascript())  # refused
    keep(engine, paths, adults, "Secret plan.pdf", pdf("Plan", "adult social care only"))
    rows = [
        ev("housing", "1.1.1", link="Minutes 2026.pdf; https://example.org/x", title="Minutes"),
        ev("housing", "1.1.2", link="Secret plan.pdf", title="Names the other department's file"),
        ev("housing", "1.1.3", link="script.pdf", title="Refused"),
    ]
    insert_evidence(engine, insert_submission(engine, "housing"), rows)
    items = {i["element_id"]: i for i in store.queue(engine, 2027)}
    yield engine, paths, items
    engine.dispose()


def test_the_item_opens_its_own_kept_document(kept):
    engine, paths, items = kept
    item = items["1.1.1"]
    found = documents.find(engine, paths, item["evidence_id"], "Minutes 2026.pdf")
    assert found is not None and found.filename == "Minutes 2026.pdf" and found.path.read_bytes().startswith(b"%PDF-")
    assert documents.openable(engine, 2027, list(items.values())) == {item["evidence_id"]: ["Minutes 2026.pdf"]}
    media, headers = document_headers(found.filename)
    assert media == "application/pdf" and headers["Content-Disposition"] == 'inline; filename="Minutes 2026.pdf"'
    assert headers["X-Content-Type-Options"] == "nosniff" and "script-src" not in headers["Content-Security-Policy"]
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    media, headers = document_headers("Café notes.docx")  # anything but a PDF downloads
    assert media.endswith("wordprocessingml.document") and headers["Content-Disposition"].startswith("attachment; ")
    assert document_headers("run.exe")[0] == "application/octet-stream"


def test_paths_other_departments_unnamed_and_refused_files_are_not_served(kept, tmp_path):
    engine, paths, items = kept
    minutes, other, refused = (items[e]["evidence_id"] for e in ("1.1.1", "1.1.2", "1.1.3"))
    database = tmp_path / "r.db"
    for name in ("../../r.db", str(database), "../Minutes 2026.pdf/../../r.db", "Minutes%202026.pdf", ""):
        assert documents.find(engine, paths, minutes, name) is None, name
    assert documents.find(engine, paths, minutes, "Secret plan.pdf") is None  # not named by this item
    assert documents.find(engine, paths, other, "Secret plan.pdf") is None  # named, but another department's file
    assert documents.find(engine, paths, refused, "script.pdf") is None  # refused by the safety checks
    assert documents.find(engine, paths, 999_999, "Minutes 2026.pdf") is None
    # a store row that points outside the document store is never followed
    with engine.begin() as conn:
        conn.execute(
            update(evidence_document).where(evidence_document.c.filename == "Minutes 2026.pdf").values(stored_path=str(database))
        )
    assert documents.find(engine, paths, minutes, "Minutes 2026.pdf") is None
