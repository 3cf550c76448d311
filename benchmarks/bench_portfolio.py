"""The assessor's portfolio build: the demo council, and 300 departments x 5 documents (no target; figures).

Each size gets a fresh SQLite register with one evidence row per document, every document a small real
PDF kept through ``documents.store.keep`` (safety check, content-addressed copy), every tenth row a
working link instead, and the build (``portfolio.pipeline.build``: gather, copy and re-check each
document, index.html, portfolio.xlsx, MANIFEST, zip) timed in a fresh child process for its peak RSS.
A second build with nothing new is timed too (it must build nothing). Baseline: the same documents
zipped as they are (``zipfile``, no index, workbook or checks), in the same run.

    source scripts/env.sh && python benchmarks/bench_portfolio.py [--departments 300] [--documents 5]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from measure import in_child, load, rss_line

FIRST_DAY = date(2027, 3, 15)


def _config(departments: int | None, documents: int) -> dict[str, Any]:
    from reaccreditation.demo import build_config

    config = build_config(FIRST_DAY)
    if departments is None:
        return config
    elements = list(dict.fromkeys(e for d in config["departments"] for e in d["elements"]))
    config["departments"] = [
        {
            "id": f"dept-{i:04d}",
            "name": f"Department {i:04d}",
            "head": {"name": f"Head {i}", "email": f"head{i}@example.org"},
            "evidence_contacts": [{"name": f"Contact {i}", "email": f"contact{i}@example.org"}],
            "elements": [elements[(i * documents + k) % len(elements)] for k in range(documents)],
        }
        for i in range(departments)
    ]
    return config


def prepare(folder: Path, departments: int | None, documents: int) -> tuple[str, int]:
    """The register and document store for one size; returns the DB URL and the number of documents kept."""
    import os

    from sqlalchemy import insert

    from reaccreditation.db import make_engine, upgrade
    from reaccreditation.db.schema import evidence, link_check, submission
    from reaccreditation.demo.documents import pdf
    from reaccreditation.documents.store import Delivery, keep
    from reaccreditation.organisation.config import parse_organisation
    from reaccreditation.settings import data_paths

    os.environ["REACCREDITATION_DATA"] = str(folder / "data")
    org = parse_organisation(_config(departments, documents), source="benchmark")
    url = f"sqlite:///{folder / 'p.db'}"
    upgrade(url)
    engine = make_engine(url)
    now = datetime.now(UTC)
    kept = 0
    rows = []
    with engine.begin() as conn:
        conn.execute(
            insert(link_check),
            [{"url": "https://www.example.org/evidence", "status": "working", "detail": "200 OK", "checked_at": now}],
        )
    for n, d in enumerate(org.departments):
        with engine.begin() as conn:
            sub = conn.execute(
                insert(submission).values(
                    sha256=f"{n:064x}",
                    original_name=f"{d.id}.xlsx",
                    assessment_year=2027,
                    department_id=d.id,
                    source="inbox",
                    received_at=now,
                    status="accepted",
                )
            ).inserted_primary_key[0]
        for k, element_id in enumerate(d.elements[:documents] if departments else d.elements):
            name = f"{element_id.replace('.', '-')} evidence {k}.pdf"
            link = "https://www.example.org/evidence" if (n + k) % 10 == 9 else name
            if link == name:
                lines = [f"{d.name}, element {element_id}"] + [f"Paragraph {i} of the evidence." for i in range(30)]
                keep(engine, data_paths(), Delivery(2027, d.id, "inbox", now), name, pdf(f"Evidence {element_id}", *lines))
                kept += 1
            rows.append(
                {
                    "assessment_year": 2027, "department_id": d.id, "element_id": element_id, "title": f"Evidence {k}",
                    "evidence_type": "Document", "link": link, "evidence_date": FIRST_DAY - timedelta(days=90),
                    "owner": d.evidence_contacts[0].name, "self_rating": "Compliance", "cplus_claim": k == 0 and n % 7 == 0,
                    "cplus_justification": "Recognised by peers" if k == 0 and n % 7 == 0 else None,
                    "submission_id": sub, "sheet": "Evidence", "row_number": k + 2, "is_current": True, "created_at": now,
                }
            )  # fmt: skip
    with engine.begin() as conn:
        conn.execute(insert(evidence), rows)
    engine.dispose()
    return url, kept


def build(folder: str, url: str, departments: int | None, documents: int) -> dict[str, Any]:
    import os

    from reaccreditation.db import make_engine
    from reaccreditation.organisation.config import parse_organisation
    from reaccreditation.portfolio import pipeline

    os.environ["REACCREDITATION_DATA"] = str(Path(folder) / "data")
    org = parse_organisation(_config(departments, documents), source="benchmark")
    engine = make_engine(url)
    started = time.perf_counter()
    built = pipeline.build(org, engine, Path(folder) / "out", "bench")
    first = time.perf_counter() - started
    started = time.perf_counter()
    again = pipeline.build(org, engine, Path(folder) / "out", "bench-again")
    assert built is not None and again is not None and again["version"] == built["version"]  # unsent: offered again
    return {"first": first, "again": time.perf_counter() - started, "size": built["size"], "zip": built["zip"]}


def baseline(folder: Path) -> float:
    started = time.perf_counter()
    with zipfile.ZipFile(folder / "baseline.zip", "w", zipfile.ZIP_DEFLATED) as z:
        for p in sorted((folder / "data" / "documents").rglob("*.pdf")):
            z.write(p, p.name)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--departments", type=int, default=300)
    parser.add_argument("--documents", type=int, default=5)
    args = parser.parse_args()
    print(load())
    for label, departments in (
        ("demo council", None),
        (f"{args.departments} departments x {args.documents} documents", args.departments),
    ):
        with tempfile.TemporaryDirectory(prefix="bench-portfolio-") as tmp:
            folder = Path(tmp)
            started = time.perf_counter()
            url, kept = prepare(folder, departments, args.documents)
            prepared = time.perf_counter() - started
            result, seconds, rss = in_child(build, str(folder), url, departments, args.documents)
            with zipfile.ZipFile(result["zip"]) as z:
                files = len(z.namelist())
            plain = baseline(folder)
            print(
                f"{label}: {kept} documents kept in {prepared:.1f} s; portfolio build {result['first']:.2f} s "
                f"(child total {seconds:.2f} s), unchanged rebuild check {result['again']:.2f} s; "
                f"bundle {result['size'] / 1024 / 1024:.2f} MiB, {files} files; baseline plain zip of the documents "
                f"{plain:.2f} s ({result['first'] / max(plain, 1e-6):.1f}x); {rss_line(rss)}"
            )
    print(load())


if __name__ == "__main__":
    main()
