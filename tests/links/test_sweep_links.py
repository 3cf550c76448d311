"""The intake sweep checks the links of all its files in one go, and still tells each file about its own."""

from __future__ import annotations

import random
import socket
from datetime import date, timedelta

from sqlalchemy import select

from reaccreditation.db import make_engine, upgrade
from reaccreditation.db.schema import link_check
from reaccreditation.demo import generate
from reaccreditation.demo.returns import fill, good_rows
from reaccreditation.intake.gx_validation import Validator
from reaccreditation.intake.pipeline import Sweep, inbox_files
from reaccreditation.links import pipeline as links_pipeline
from reaccreditation.organisation.config import load_organisation
from reaccreditation.requests.workbook import RequestWorkbook
from reaccreditation.settings import Paths

TODAY = date(2027, 1, 20)


def _closed_port() -> int:
    """A local port nothing listens on: a link to it is refused at once (no network leaves the machine)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_one_link_check_per_sweep_each_file_hears_of_its_own_broken_links(tmp_path, gx_dir, monkeypatch):
    org = load_organisation(generate(tmp_path / "demo", date(2027, 3, 15))["config"], today=TODAY)
    engine_url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    upgrade(engine_url)
    engine = make_engine(engine_url)
    paths = Paths(tmp_path / "data")
    paths.inbox.mkdir(parents=True)
    base = f"https://127.0.0.1:{_closed_port()}"
    departments = org.departments[:2]
    for dept in departments:
        rows = good_rows(org, dept, random.Random(3), partial_share=0.0)
        for r in rows:
            r["evidence_date"] = min(r["evidence_date"], TODAY - timedelta(days=1))
        rows[0]["link"] = f"{base}/gone-{dept.id}"
        rows[1]["link"] = f"{base}/rejected-row-{dept.id}"
        rows[1]["element_id"] = "9.9.9"  # not an element: the row is rejected, its link never checked
        (paths.inbox / f"{dept.id}-return.xlsx").write_bytes(fill(RequestWorkbook(org, dept).to_bytes(), rows))

    asked: list[list[str]] = []
    real_check = links_pipeline.check

    def spy(urls, **options):  # type: ignore[no-untyped-def]
        asked.append(list(urls))
        return real_check(urls, **options)

    monkeypatch.setattr(links_pipeline, "check", spy)
    outcomes = Sweep(org, engine, paths, Validator, today=TODAY, run_id="links").run(inbox_files(paths.inbox))

    assert len(asked) == 1, asked  # one check for the sweep, not one per file
    assert sorted(u for u in asked[0] if u.startswith(base)) == sorted(f"{base}/gone-{d.id}" for d in departments)
    by_department = {o.department_id: o for o in outcomes}
    assert set(by_department) == {d.id for d in departments}
    for dept in departments:
        outcome = by_department[dept.id]
        assert outcome.status == "partial", outcome.message
        notes = [n for n in outcome.details["notes"] if "does not work" in n]
        # each file is told of its own broken link only, located by sheet, row and column
        assert len(notes) == 1 and f"the link {base}/gone-{dept.id} does not work" in notes[0], notes
        assert notes[0].startswith("Sheet Evidence, row ") and "the site could not be reached" in notes[0]
    with engine.connect() as conn:
        kept = {r.url: r.status for r in conn.execute(select(link_check)) if r.url.startswith(base)}
    assert kept == {f"{base}/gone-{d.id}": "broken" for d in departments}
