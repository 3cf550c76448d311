"""One real evidence_intake run over the messy corpus (issue 21): every file gets exactly one answer, and
that answer names what was refused, rejected or changed, in the words of ``tests/data/messy/expected.csv``.

Beyond the table: no answer shows a reader's own error text, the inbox ends empty (hidden names too),
and two different empty files are two answers, not one "already received".
"""

from __future__ import annotations

import importlib.util
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from reaccreditation.db import make_engine
from reaccreditation.db.schema import intake_receipt, outbound_message, submission
from reaccreditation.intake.pipeline import display_name

from ..conftest import run_dag

MESSY = Path(__file__).resolve().parents[2] / "tests" / "data" / "messy" / "make_messy.py"
HOSTILE_MARKUP = ("<script", "<img", "<b onmouseover")  # the html_in_cells case types them into cells and a heading
READER_INTERNALS = ("Cannot detect file format", "shared strings", "BadZipFile", "_csv.Error", "KeyError", "Traceback")


def load_make_messy():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("make_messy", MESSY)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_messy_corpus_through_the_dag(airflow_db, project_db, outbox, demo, org, ledger):  # type: ignore[no-untyped-def]
    make = load_make_messy()
    expected = {e["case"]: e for e in make.expected()}
    root = demo["data"]
    paths = make.build(org, root / "inbox")
    assert set(paths) == set(expected)

    run = run_dag("evidence_intake", make.RUN_DAY)
    assert run.state == "success"
    assert [p.name for p in (root / "inbox").iterdir()] == []

    engine = make_engine(project_db)
    with engine.connect() as conn:
        subs = {s.original_name: s for s in conn.execute(select(submission))}
        receipts = {r.original_name: r for r in conn.execute(select(intake_receipt))}
        sent = list(conn.execute(select(outbound_message)))
    messages = {str(m["Message-ID"]): m for m in outbox.messages()}
    keys = Counter(o.dedupe_key for o in sent)
    contacts = {d.id: sorted(c.email for c in d.evidence_contacts) for d in org.departments}
    quality = sorted(m.email for m in org.quality_team.members)
    problems = []
    for case, e in expected.items():
        name = display_name(paths[case])
        sub = subs.get(name)
        if sub is None or receipts[name].outcome == "duplicate":
            problems.append((case, "no own submission", receipts.get(name)))
            continue
        got = (sub.status, sub.rows_accepted, sub.rows_rejected)
        [claim] = [o for o in sent if o.dedupe_key.split(":quality")[0] == f"intake:{sub.sha256}"]
        msg = messages[claim.message_id]
        text = " ".join(msg.get_body(("plain",)).get_content().split())
        to = sorted(a.split("<")[-1].rstrip(">") for a in str(msg["To"]).split(", "))
        want_to = quality if e["reply"] == "quality" else contacts[e["reply"]]
        missing = [
            f
            for f in e["answer_contains"].split("||")
            if (f[1:] in text if f.startswith("!") else " ".join(f.split()) not in text)
        ]
        shown = [w for w in READER_INTERNALS if w in text]
        html = msg.get_body(("html",)).get_content()
        shown += [tag for tag in HOSTILE_MARKUP if tag in html]  # typed markup is shown as text, never as markup
        if got != (e["status"], int(e["rows_accepted"]), int(e["rows_rejected"])) or missing or shown or to != want_to:
            problems.append((case, got, missing, shown, to == want_to, text[:1500]))
        ledger.add("messy", case, survived=True, duplicate_emails=keys[claim.dedupe_key] - 1)
    assert problems == []
