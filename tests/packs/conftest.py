"""Pack fixtures: the demo council's history and intake in the project DB, and a real timetable.json.

The timetable is solved once per session with the timetable stage's own pipeline (it takes ~15 s) and
copied into each test's output folder.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert

from reaccreditation.db import make_engine, upgrade
from reaccreditation.db.schema import assessment_outcome
from reaccreditation.demo import generate
from reaccreditation.organisation.config import Organisation, load_organisation

from ..conftest import FIRST_DAY
from ..gaps.helpers import FRESH, STALE, ev, insert_evidence, insert_submission

T30 = FIRST_DAY - timedelta(days=31)  # 2027-02-12: the first pack date (T-30 is a Saturday: the Friday before)


def import_history(engine: Engine, history_csv: Path) -> None:
    with history_csv.open() as f, engine.begin() as conn:
        conn.execute(
            insert(assessment_outcome),
            [r | {"assessment_year": int(r["assessment_year"]), "source": "demo"} for r in csv.DictReader(f)],
        )


def simulate_intake(engine: Engine, org: Organisation, partial_last_year: str, missing: str = "policy-insight") -> None:
    """Every department returns a workbook except ``missing``; 1.1.1 has no evidence, a few are stale or self-rated partial."""
    for d in org.departments:
        if d.id == missing:
            insert_submission(engine, d.id, "rejected")
            continue
        rows = []
        for e in d.elements:
            if e == "1.1.1":
                continue
            when = STALE if e in ("3.2.1", partial_last_year) else FRESH
            rating = "Partial Compliance" if e == "4.3.1" and d.id == "complaints-legal" else "Compliance"
            rows.append(ev(d.id, e, when, rating, title='=HYPERLINK("http://x")' if e == "2.1.1" else f"Evidence for {e}"))
        insert_evidence(engine, insert_submission(engine, d.id), rows)


@pytest.fixture(scope="session")
def demo_timetable(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """timetable.json for the demo council, solved by the timetable stage (once per session)."""
    from reaccreditation.timetable import pipeline

    folder = tmp_path_factory.mktemp("timetable")
    paths = generate(folder / "demo", FIRST_DAY)
    url = f"sqlite:///{folder / 'p.db'}"
    upgrade(url)
    engine = make_engine(url)
    import_history(engine, paths["history"])
    org = load_organisation(paths["config"])
    planned = pipeline.plan(org, engine, at_risk=["3.2.1"], seconds=2)
    pipeline.publish(org, engine, planned, folder / "out", "packs-fixture")
    return folder / "out" / "timetable.json"


@pytest.fixture
def place_timetable(demo, demo_timetable) -> Callable[[], Path]:  # type: ignore[no-untyped-def]
    def place() -> Path:
        target = demo["data"] / "output" / str(FIRST_DAY.year) / "timetable" / "timetable.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(demo_timetable, target)
        return target

    return place


def close_gap(engine: Engine, department_id: str, element_id: str) -> None:
    """The department re-rates an element Compliance: its old row is superseded by a fresh one."""
    from sqlalchemy import update

    from reaccreditation.db.schema import evidence

    with engine.begin() as conn:
        conn.execute(
            update(evidence)
            .where(evidence.c.department_id == department_id, evidence.c.element_id == element_id)
            .values(is_current=False)
        )
    insert_evidence(
        engine, insert_submission(engine, department_id, "partial"), [ev(department_id, element_id, FRESH, "Compliance")]
    )
