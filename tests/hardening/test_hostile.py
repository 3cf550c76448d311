"""One real evidence_intake run over the hostile corpus: every file gets its defined outcome and reply.

The table of outcomes is ``tests/data/hostile/expected.csv``. Beyond the table: the inbox ends empty,
nothing is written (or removed) outside the data root, every path we record lies inside it, no
workbook we send back or keep holds a live formula, and no file name reaches a mail header or the
HTML unescaped.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections import Counter
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import select

from reaccreditation.db import make_engine
from reaccreditation.db.schema import evidence, intake_receipt, outbound_message, submission
from reaccreditation.intake.pipeline import Sweep, display_name
from reaccreditation.settings import data_paths

from ..conftest import run_dag
from .conftest import load_make_hostile

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _tree(folder: Path, skip: tuple[Path, ...]) -> dict[str, str]:
    """Every file (and link) under ``folder`` except ``skip``: path -> content hash (links: their target)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        d = Path(dirpath)
        dirnames[:] = [n for n in dirnames if not any((d / n) == s for s in skip)]
        for n in filenames:
            p = d / n
            if any(str(p).startswith(str(s)) for s in skip):
                continue  # e.g. the project database and its -wal/-shm files
            out[str(p)] = "link:" + os.readlink(p) if p.is_symlink() else hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _no_formulas(data: bytes) -> list[str]:
    wb = load_workbook(io.BytesIO(data))
    return [f"{ws.title}!{c.coordinate}" for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.data_type == "f"]


def test_hostile_corpus_through_the_dag(airflow_db, project_db, outbox, demo, gx_dir, org, tmp_path, ledger):  # type: ignore[no-untyped-def]
    make = load_make_hostile()
    expected = {e["case"]: e for e in make.expected()}
    root = demo["data"]
    paths = make.build(org, root / "inbox", tmp_path / "outside")
    assert len(expected) >= 30 and set(paths) == set(expected)
    db_file = Path(project_db.removeprefix("sqlite:///"))
    before = _tree(tmp_path, skip=(root, gx_dir, db_file))
    engine = make_engine(project_db)

    run = run_dag("evidence_intake", make.RUN_DAY)
    assert run.state == "success"
    # the paths outside the inbox, handed to a sweep: refused before anything is read
    outside = [paths["outside_relative"], paths["outside_absolute"]]
    refused = Sweep(
        org,
        engine,
        data_paths(),
        lambda: (_ for _ in ()).throw(AssertionError("nothing may be validated")),
        today=make.RUN_DAY,
        run_id="outside",
    ).run(outside)
    assert refused == [] and all(p.exists() for p in outside)

    assert [p.name for p in (root / "inbox").iterdir()] == []
    assert _tree(tmp_path, skip=(root, gx_dir, db_file)) == before  # nothing written, changed or removed outside the data root

    with engine.connect() as conn:
        subs = {s.original_name: s for s in conn.execute(select(submission))}
        receipts = {r.original_name: r for r in conn.execute(select(intake_receipt))}
        rows_by_sub = Counter(conn.execute(select(evidence.c.submission_id)).scalars())
        sent = {o.message_id: o for o in conn.execute(select(outbound_message))}
    messages = {str(m["Message-ID"]): m for m in outbox.messages()}
    assert len(messages) == len(outbox.messages()) == len(sent)  # one email per outbox claim
    keys = Counter(o.dedupe_key for o in sent.values())
    contacts = {d.id: sorted(c.email for c in d.evidence_contacts) for d in org.departments}
    quality = sorted(m.email for m in org.quality_team.members)
    # a version that replaces evidence is copied to the department's head (intake.replies): our recipients too
    allowed = {a for v in contacts.values() for a in v} | set(quality) | {d.head.email for d in org.departments}
    problems = []

    for case, e in expected.items():
        name = display_name(paths[case])
        if e["status"] == "refused":
            assert name not in receipts, case
            ledger.add("hostile", case, survived=True, note="refused, not read, left in place")
            continue
        receipt = receipts[name]
        if e["status"] == "duplicate":
            assert receipt.outcome == "duplicate", case
            sub = next(s for s in subs.values() if s.id == receipt.submission_id)
            key_prefix = f"intake:{sub.sha256}:receipt:{receipt.id}"
        else:
            sub = subs[name]
            got = (sub.status, sub.rows_accepted, sub.rows_rejected)
            if got != (e["status"], int(e["rows_accepted"]), int(e["rows_rejected"])) or e["message_contains"] not in sub.message:
                problems.append((case, got, sub.message))
            if sub.status in ("rejected", "quarantined"):
                assert e["message_contains"] in (Path(sub.quarantine_path) / "REASON.txt").read_text(), case
            key_prefix = f"intake:{sub.sha256}"
        lost = int(e["rows_accepted"]) - rows_by_sub.get(sub.id, 0) if e["status"] != "duplicate" else 0
        [(message_id, claim)] = [(m, o) for m, o in sent.items() if o.dedupe_key.split(":quality")[0] == key_prefix]
        msg = messages[message_id]
        to = sorted(a.split("<")[-1].rstrip(">") for a in str(msg["To"]).split(", "))
        assert to == (quality if e["reply"] == "quality" else contacts[e["reply"]]), case
        assert msg["Bcc"] is None and "\n" not in str(msg["Subject"]), case
        html = msg.get_body(("html",)).get_content()
        assert "<script>alert" not in html, case
        for part in msg.iter_attachments():
            if part.get_content_type() == XLSX:
                assert _no_formulas(part.get_content()) == [], case
        ledger.add("hostile", case, survived=True, rows_lost=max(lost, 0), duplicate_emails=keys[claim.dedupe_key] - 1)
        assert lost == 0, case
    assert problems == []

    # everything we generated or kept: inside the data root, and no live formula in any workbook we wrote
    recorded = [p for s in subs.values() for p in (s.archive_path, s.annotated_path, s.quarantine_path) if p]
    recorded += [r.stored_path for r in receipts.values() if r.stored_path]
    assert all(Path(p).resolve().is_relative_to(root.resolve()) for p in recorded)
    annotated = [Path(s.annotated_path) for s in subs.values() if s.annotated_path]
    assert len(annotated) == 7
    assert {str(p): _no_formulas(p.read_bytes()) for p in annotated} == {str(p): [] for p in annotated}
    # the injected text is kept as text, visibly, in the annotated workbook
    dde = load_workbook(next(p for p in annotated if "people-od-dde" in p.name))["CSV"]
    assert dde["B2"].value == "=cmd|' /C calc'!A0" and dde["B2"].data_type == "s" and dde["B2"].quotePrefix
    # the secret behind the symlink was never read into the archive or the database
    secret = make.SECRET.encode()
    assert not any(secret in p.read_bytes() for p in (root / "archive").rglob("*") if p.is_file())
    # names with CR/LF never reach a header; the envelope only ever holds our own recipients
    for raw in outbox.files():
        head = raw.read_bytes().split(b"\r\n\r\n", 1)[0]
        assert b"attacker@evil.example" not in b"".join(
            line for line in head.split(b"\r\n") if line.startswith((b"X-Envelope-To", b"To", b"Cc", b"Bcc"))
        )
        assert {line.split(b": ", 1)[1].decode() for line in head.split(b"\r\n") if line.startswith(b"X-Envelope-To")} <= allowed
    html_reply = next(
        m for m in messages.values() if "<script>alert(1)<script>-parks.xlsx" in m.get_body(("plain",)).get_content()
    )
    assert "&lt;script&gt;alert(1)&lt;script&gt;-parks.xlsx" in html_reply.get_body(("html",)).get_content()
