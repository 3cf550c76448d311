"""The assessor's evidence portfolio on the demo council, through the real DAGs, the SMTP sink and the download app.

The demo departments return their workbooks with small real PDFs beside them (some forget one, some give
only an intranet link, two send nothing); evidence_intake keeps them; evidence_portfolio builds the
bundle at T-21, the quality lead approves it, the assessor gets it. The test unzips it as the assessor
would, follows every link of index.html to a file inside the zip, checks every SHA-256 of MANIFEST,
reads the workbook back, compares the front page's gaps with what the demo planted, downloads the
bundle through the plugin's app (in time, expired, tampered: each logged), reruns with nothing new
(nothing sent), then with a forgotten PDF arriving (version 2, the assessor told what changed).
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import re
import zipfile
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from urllib.parse import parse_qs, unquote, urlsplit

from openpyxl import load_workbook
from sqlalchemy import select

from reaccreditation.db import make_engine
from reaccreditation.db.schema import approval_decision, portfolio_version
from reaccreditation.demo.documents import pdf
from reaccreditation.demo.returns import write_returns
from reaccreditation.documents.store import Delivery, keep
from reaccreditation.organisation.config import load_organisation
from reaccreditation.portfolio import pipeline, store, token
from reaccreditation.settings import data_paths

from ..approvals.answer import Answer, answering
from ..conftest import DEMO_SIGNING_KEY, FIRST_DAY, ROOT, run_dag

ASSESSOR = "alan.wicks@northfield-cert.example.com"


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.ids: set[str] = set()
        self.gap_rows: list[str] = []
        self.owed_rows: list[str] = []

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
            if tag == "tr" and a["id"].startswith("gap-"):
                self.gap_rows.append(a["id"][4:])
            if tag == "tr" and a["id"].startswith("owed-"):
                self.owed_rows.append(a["id"][5:])
        if tag == "a" and a.get("href"):
            self.hrefs.append(a["href"])


def _approved(dag_id, when):  # type: ignore[no-untyped-def]
    with answering(dag_id, Answer("approve_portfolio", "Approve")) as answers:
        run = run_dag(dag_id, when)
    assert not answers.errors
    return run, answers.seen


def _planted_owed(org, planted) -> set[str]:  # type: ignore[no-untyped-def]
    """'<element>-<department>' for each owner the demo made fail: silent, a row rejected for a planted
    mistake, a forgotten PDF, an intranet link only, an element it sent nothing for."""
    owed = set()
    for d in org.departments:
        entry = planted["departments"].get(d.id)
        if entry is None:
            owed |= {f"{e}-{d.id}" for e in d.elements}
            continue
        docs = entry["documents"]
        failed = {m["element_id"] for m in entry["mistakes"]} | set(docs["missing"]) | set(docs["link_only"])
        failed |= set(entry["not_sent"])
        owed |= {f"{e}-{d.id}" for e in d.elements if e in failed}
    return owed


def _expected_gaps(org, owed) -> set[str]:  # type: ignore[no-untyped-def]
    """Elements every owner of which failed (or that nobody owns)."""
    return {e.id for e in org.standard.elements if all(f"{e.id}-{d.id}" in owed for d in org.owners(e.id))}


def _download_app():  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    spec = importlib.util.spec_from_file_location("portfolio_download_plugin", ROOT / "plugins" / "portfolio_download.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return TestClient(module.build_app())


def test_demo_portfolio_built_signed_off_sent_downloaded_and_versioned(airflow_db, project_db, outbox, demo, gx_dir):
    org = load_organisation(demo["config"])
    engine = make_engine(project_db)
    planted = write_returns(org, demo["data"] / "inbox")
    assert run_dag("evidence_intake", FIRST_DAY - timedelta(days=100)).state == "success"
    outbox.clear()
    portfolio_day = org.due_date(org.schedule.portfolio_days_before)

    # The window: from the portfolio date (a working day) to the assessment's last day.
    assert pipeline.due(org, portfolio_day - timedelta(days=1)) is None
    assert pipeline.due(org, org.assessment.last_day + timedelta(days=1)) is None
    assert pipeline.due(org, portfolio_day) == {"today": portfolio_day.isoformat(), "portfolio_date": portfolio_day.isoformat()}

    run, seen = _approved("evidence_portfolio", portfolio_day)
    assert run.state == "success"
    assert [s["task_id"] for s in seen] == ["approve_portfolio"] and "version 1" in seen[0]["subject"]
    with engine.connect() as conn:
        audit = select(approval_decision.c.item_kind, approval_decision.c.decision).order_by(approval_decision.c.id)
        assert conn.execute(audit).all() == [("evidence_portfolio", "requested"), ("evidence_portfolio", "approved")]

    # The assessor's email: index and workbook attached, a download link, no bundle attached.
    mails = [m for m in outbox.messages() if m["To"].addresses[0].addr_spec == ASSESSOR]
    assert len(mails) == 1
    mail = mails[0]
    assert mail["Subject"] == "Kestrel Vale: evidence portfolio 2027, version 1"
    names = sorted(p.get_filename() for p in mail.iter_attachments())
    assert names == ["index.html", "portfolio.xlsx"]
    text = mail.get_body(("plain",)).get_content()
    link = re.search(r"(https?://\S+/portfolio/download\?token=\S+)", text).group(1)

    [v1] = store.versions(engine, 2027)
    bundle = zipfile.ZipFile(v1["zip_path"])
    root = "portfolio-2027-v1/"
    members = {n[len(root) :]: bundle.read(n) for n in bundle.namelist()}
    assert all(n.startswith(root) for n in bundle.namelist())

    # MANIFEST: every other file, each SHA-256 right.
    manifest = dict(reversed(line.split("  ", 1)) for line in members["MANIFEST"].decode().splitlines())
    assert set(manifest) == set(members) - {"MANIFEST"}
    for name, digest in manifest.items():
        assert hashlib.sha256(members[name]).hexdigest() == digest, name
    assert hashlib.sha256(members["MANIFEST"]).hexdigest() == v1["manifest_sha256"]

    # Every link of index.html leads to a file in the zip or an anchor on the page; no remote resource.
    index = members["index.html"].decode()
    attached = next(p for p in mail.iter_attachments() if p.get_filename() == "index.html")
    assert attached.get_payload(decode=True) == members["index.html"]
    page = Links()
    page.feed(index)
    assert not re.search(r"<(script|link|img)\b", index)
    documents = [h for h in page.hrefs if h.startswith("documents/")]
    assert len(documents) == sum(len(e["documents"]["sent"]) for e in planted["departments"].values()) - _rejected_sent(planted)
    for href in page.hrefs:
        if href.startswith("#"):
            assert href[1:] in page.ids, href
        else:
            target = str(PurePosixPath(unquote(href)))
            assert target in members, href
    sent_pdfs = {n for n in members if n.endswith(".pdf")}
    assert sent_pdfs and all(members[n].startswith(b"%PDF-") for n in sent_pdfs)

    # The front page lists exactly the planted gaps, each with its owner: elements nobody evidenced, and
    # each owning department whose own items prove nothing.
    owed = _planted_owed(org, planted)
    assert owed and set(page.owed_rows) == owed
    expected = _expected_gaps(org, owed)
    # The element-level list is exactly the one the demo planted: a sole owner that sent nothing for it.
    sole_not_sent = [e for entry in planted["departments"].values() for e in entry["not_sent"]]
    assert len(sole_not_sent) == 1 and len(org.owners(sole_not_sent[0])) == 1
    assert expected == set(sole_not_sent) and page.gap_rows == sole_not_sent
    assert {g["id"] for g in v1["gaps"]} == expected
    for g in v1["gaps"]:
        owners = org.owners(g["id"])
        assert g["owners"] == (", ".join(d.name for d in owners) or "no department (quality team)")

    # The workbook: one sheet per criterion, Ref / Element / Evidence / Owner / Notes, links to the documents.
    wb = load_workbook(io.BytesIO(members["portfolio.xlsx"]))
    assert wb.sheetnames == [f"Criterion {c.id}" for c in org.standard.criteria]
    linked = []
    for ws in wb.worksheets:
        assert [c.value for c in ws[1]] == ["Ref", "Element", "Evidence", "Owner", "Notes"]
        linked += [unquote(c.hyperlink.target) for c in ws["C"][1:] if c.hyperlink and c.hyperlink.target]
    assert linked and all(t in members for t in linked)

    # The download: in time (logged, the same bytes), tampered (refused), expired (refused): each logged.
    client = _download_app()
    query = urlsplit(link).query
    good = parse_qs(query)["token"][0]
    got = client.get("/download", params={"token": good})
    assert got.status_code == 200 and got.content == open(v1["zip_path"], "rb").read()
    payload, sig = good.split(".")
    forged = token.issue(b"someone else's key of enough length", token.verify(DEMO_SIGNING_KEY.encode(), good, datetime.now(UTC)))
    tampered = [payload + "." + sig[:-2] + ("AA" if not sig.endswith("AA") else "BB"), forged, payload[:-4] + "." + sig, "x"]
    for bad in tampered:
        r = client.get("/download", params={"token": bad})
        assert r.status_code == 403 and "does not work" in r.text, bad
    grant = token.Grant(2027, 1, ASSESSOR, int((datetime.now(UTC) - timedelta(seconds=1)).timestamp()))
    r = client.get("/download", params={"token": token.issue(DEMO_SIGNING_KEY.encode(), grant)})
    assert r.status_code == 410 and "expired" in r.text
    log = store.downloads(engine, None)
    assert [row["outcome"] for row in log] == ["served"] + ["refused"] * len(tampered) + ["expired"]
    assert log[0]["recipient"] == ASSESSOR and log[0]["version"] == 1
    assert all(good not in json.dumps(row, default=str) for row in log)  # the log keeps a digest, never the link

    # The link expires after the assessment's last day (+ download_days_after), not before.
    expires = token.verify(DEMO_SIGNING_KEY.encode(), good, datetime.now(UTC)).expires_at
    assert expires.date() > org.assessment.last_day

    # A rerun with nothing new: no version, no approval asked, nothing sent.
    outbox.clear()
    assert run_dag("evidence_portfolio", portfolio_day + timedelta(days=1)).state == "success"
    assert len(store.versions(engine, 2027)) == 1 and outbox.messages() == []

    # A forgotten PDF arrives: version 2, and the assessor is told what changed.
    dept_id, entry = next((d, e) for d, e in planted["departments"].items() if e["documents"]["missing"])
    element_id = entry["documents"]["missing"][0]
    with engine.connect() as conn:
        from reaccreditation.db.schema import evidence

        named = conn.execute(
            select(evidence.c.link).where(evidence.c.department_id == dept_id, evidence.c.element_id == element_id)
        ).scalar_one()
    delivery = Delivery(2027, dept_id, "inbox", datetime.now(UTC))
    assert keep(engine, data_paths(), delivery, named, pdf("Late evidence", element_id))["status"] == "kept"
    run, seen = _approved("evidence_portfolio", portfolio_day + timedelta(days=2))
    assert run.state == "success" and "version 2" in seen[0]["subject"]
    [mail2] = [m for m in outbox.messages() if m["To"].addresses[0].addr_spec == ASSESSOR]
    assert mail2["Subject"] == "Kestrel Vale: evidence portfolio 2027, version 2 (changed)"
    body = mail2.get_body(("plain",)).get_content()
    assert "Since version 1" in body and f"{element_id}" in body and named in body
    with engine.connect() as conn:
        assert conn.execute(select(portfolio_version.c.version)).scalars().all() == [1, 2]
    v2 = store.version(engine, 2027, 2)
    assert {g["id"] for g in v2["gaps"]} == expected - {element_id}
    again = Links()
    again.feed((Path(v2["zip_path"]).with_suffix("") / "index.html").read_text())
    assert set(again.owed_rows) == owed - {f"{element_id}-{dept_id}"}


def _rejected_sent(planted) -> int:  # type: ignore[no-untyped-def]
    """PDFs sent for a row intake rejected (a planted mistake): kept, but no accepted row names them."""
    n = 0
    for entry in planted["departments"].values():
        rejected = {m["element_id"] for m in entry["mistakes"]}
        n += sum(1 for name in entry["documents"]["sent"] if name.split(" ", 1)[0].replace("-", ".") in rejected)
    return n
