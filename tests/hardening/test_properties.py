"""A property of intake (issue 21), over generated workbooks and CSV files: for every accepted row, every input
cell the department filled is in the register exactly as typed, or the answer names the change.

Each example is one return (an .xlsx written with openpyxl or a CSV, headings in any order, two to four
rows) whose cells are typed as people type them: outer spaces, invisible and control characters, choices in
another case, ``y`` for Yes, dates as UK text (some of which read two ways) or as date cells. It goes through
the real intake sweep (safety checks, calamine or csv, GX, rules, the register in SQLite); then, per accepted
row and filled cell, the registered value must equal what was typed, or an answer line must name that
sheet, row and column. Deterministic (``derandomize``, no example database) and bounded (``max_examples``).
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from sqlalchemy import select

from reaccreditation.db.schema import evidence
from reaccreditation.intake.reading import parse_date
from reaccreditation.workbook import layout
from reaccreditation.workbook.sheets import set_text

from .conftest import load_make_hostile

DEPARTMENT = "housing"
REGISTER = {"evidence_title": "title"}  # layout key -> evidence column, where they differ
INPUTS = list(layout.INPUT_COLUMNS)
EXAMPLES = 5  # sweeps (GX runs once per sweep), each of up to FILES returns: 15 returns in all
FILES = 6
# Characters people paste without seeing them (and a few they type): each one changes the text if kept.
NOISE = ["\u200b", "\u2060", "\ufeff", "\u00ad", "\u202e", "\x85", "\x7f", "\x1b", "\t"]
TEXT = st.text(
    alphabet=st.sampled_from(list("abcXYZ019 ,.;:'\"()&%/-_=+@#é€😀ا\u200d") + ["\n"]),
    min_size=1,
    max_size=24,
).filter(lambda t: t.strip(" \n") != "" and not t.lstrip().startswith("#"))


@st.composite
def typed(draw, core: st.SearchStrategy[str], csv_file: bool) -> str:  # type: ignore[no-untyped-def]
    """``core`` as a person might leave it: maybe spaces around it, maybe an invisible character inside."""
    text = draw(core)
    if draw(st.booleans()):
        noise = [n for n in NOISE if csv_file or n != "\x1b"]  # openpyxl cannot write ESC into an .xlsx
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(noise)) + text[at:]
    if draw(st.integers(0, 3)) == 0:
        text = draw(st.sampled_from([" ", "  ", "\u00a0"])) + text + draw(st.sampled_from(["", " "]))
    return text


def _case(draw, choices: tuple[str, ...]) -> str:  # type: ignore[no-untyped-def]
    choice = draw(st.sampled_from(choices))
    return draw(st.sampled_from([choice, choice.lower(), choice.upper()]))


@st.composite
def evidence_return(draw, elements: list[str], ratings: tuple[str, ...], window: tuple[date, date]):  # type: ignore[no-untyped-def]
    kind = draw(st.sampled_from(["xlsx", "csv"]))
    is_csv = kind == "csv"
    keys = ["element_id", *(c.key for c in INPUTS)]
    order = draw(st.permutations(keys))
    rows = []
    exceeds = ratings[0]
    for element in draw(st.lists(st.sampled_from(elements), min_size=2, max_size=4, unique=True)):
        rating = draw(st.sampled_from(ratings))
        claim = draw(st.sampled_from(["Yes", "yes", "y", "TRUE"] if rating == exceeds else ["No", "no", "N", None]))
        day = window[0] + timedelta(days=draw(st.integers(0, (window[1] - window[0]).days)))
        as_text = draw(st.sampled_from(["%d/%m/%Y", "%-d/%-m/%Y", "%d.%m.%Y", "%Y-%m-%d", "%d %B %Y", "cell"]))
        row = {
            "element_id": draw(typed(st.just(element), is_csv)),
            "confirm": draw(st.one_of(st.none(), st.just(_case(draw, layout.CONFIRM_CHOICES)))),
            "evidence_title": draw(typed(TEXT, is_csv)),
            "evidence_type": _case(draw, layout.EVIDENCE_TYPES),
            "link": draw(st.sampled_from(["https://intranet.example.org/", "https://www.example.gov.uk/a/"]))
            + draw(st.text(alphabet="abcdef0123456789-_", min_size=1, max_size=12)),
            "evidence_date": day
            if as_text == "cell" and not is_csv
            else day.strftime("%d/%m/%Y" if as_text == "cell" else as_text),
            "owner": draw(st.one_of(st.none(), typed(TEXT, is_csv))),
            "self_rating": draw(st.sampled_from([rating, rating.lower(), rating.upper()])),
            "statement": draw(st.one_of(st.none(), typed(TEXT, is_csv))),
            "cplus_claim": claim,
            "cplus_justification": draw(typed(TEXT, is_csv)) if rating == exceeds else None,
            "notes": draw(st.one_of(st.none(), typed(TEXT, is_csv))),
        }
        rows.append(row)
    return kind, order, rows


def _bytes(kind: str, order: list[str], rows: list[dict]) -> bytes:  # type: ignore[type-arg]
    headers = [layout.COLUMN_BY_KEY[k].heading() for k in order]
    if kind == "csv":
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(headers)
        for row in rows:
            w.writerow(["" if row[k] is None else row[k] for k in order])
        return buf.getvalue().encode("utf-8")
    wb = Workbook()
    ws = wb.active
    ws.title = layout.EVIDENCE_SHEET
    for c, h in enumerate(headers, 1):
        set_text(ws.cell(row=1, column=c), h)
    for r, row in enumerate(rows, 2):
        for c, key in enumerate(order, 1):
            value = row[key]
            if isinstance(value, str):
                set_text(ws.cell(row=r, column=c), value)  # typed text, never a formula
            elif value is not None:
                ws.cell(row=r, column=c).value = value
                ws.cell(row=r, column=c).number_format = "dd/mm/yyyy"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _named(notes: list[str], row: int, header: str) -> bool:
    """An answer line naming this row and column (one per cell, or one per column listing its rows)."""
    for note in notes:
        if f"column '{header}'" not in note and f"column {header}" not in note:
            continue
        if f"row {row}," in note or f"row {row}:" in note:
            return True
        listed = re.search(r"rows ([\d, ]+)", note)
        if listed and str(row) in [n.strip() for n in listed.group(1).split(",")]:
            return True
    return False


def _same(key: str, typed_value: object, registered: object) -> bool:
    if key == "evidence_date":
        return registered == (typed_value if isinstance(typed_value, date) else parse_date(typed_value))
    if key == "cplus_claim":
        return registered is (str(typed_value) == "Yes")
    return registered == typed_value


@pytest.fixture(scope="module")
def intake(tmp_path_factory):  # type: ignore[no-untyped-def]
    """The demo council, a migrated SQLite register, a private GX context and one validator, for every example."""
    import os
    import shutil

    from reaccreditation.db import make_engine, upgrade
    from reaccreditation.demo import generate
    from reaccreditation.intake.gx_validation import Validator
    from reaccreditation.organisation.config import load_organisation
    from reaccreditation.settings import Paths

    hostile = load_make_hostile()
    folder = tmp_path_factory.mktemp("properties")
    org = load_organisation(generate(folder / "demo", hostile.FIRST_DAY)["config"], today=hostile.RUN_DAY)
    url = f"sqlite:///{folder / 'p.db'}"
    upgrade(url)
    gx = folder / "great_expectations"
    shutil.copytree(Path(__file__).resolve().parents[2] / "great_expectations", gx, ignore=shutil.ignore_patterns("uncommitted"))
    old = os.environ.get("REACCREDITATION_GX_DIR")
    os.environ["REACCREDITATION_GX_DIR"] = str(gx)
    validator = Validator(gx)
    yield org, make_engine(url), Paths(folder / "data"), validator, hostile.RUN_DAY
    if old is None:
        os.environ.pop("REACCREDITATION_GX_DIR", None)
    else:
        os.environ["REACCREDITATION_GX_DIR"] = old


COUNTER = itertools.count()
SEEN = {"files": 0, "accepted_rows": 0, "checked_cells": 0, "named_changes": 0}


def test_every_filled_cell_of_an_accepted_row_is_registered_as_typed_or_named(intake):  # type: ignore[no-untyped-def]
    from reaccreditation.intake.pipeline import Sweep

    org, engine, paths, validator, today = intake
    dept = org.department(DEPARTMENT)
    start = org.assessment.evidence_window_start
    window = (start, min(org.assessment.first_day, today))

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=(Phase.explicit, Phase.generate),  # no shrinking: a failure names its file, row, column and text
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.lists(evidence_return(sorted(set(dept.elements)), org.standard.labels, window), min_size=1, max_size=FILES))
    def check(generated) -> None:  # type: ignore[no-untyped-def]
        paths.inbox.mkdir(parents=True, exist_ok=True)
        files = []
        for kind, order, rows in generated:  # one sweep of several files: GX runs once per sweep, as in the DAG
            path = paths.inbox / f"{DEPARTMENT}-return-{next(COUNTER)}.{kind}"
            path.write_bytes(_bytes(kind, order, rows))
            files.append(path)
        outcomes = Sweep(org, engine, paths, lambda: validator, today=today, run_id="properties").run(files)
        by_name = {o.original_name: o for o in outcomes}
        for path, (kind, _, rows) in zip(files, generated, strict=True):
            _check(kind, rows, by_name[path.name])
        SEEN["files"] += len(files)

    def _check(kind: str, rows: list[dict], outcome) -> None:  # type: ignore[no-untyped-def,type-arg]
        if outcome.status == "duplicate":
            return
        assert outcome.status in ("accepted", "partial", "rejected"), (outcome.status, outcome.message)
        notes = outcome.details.get("notes", [])
        with engine.connect() as conn:
            registered = {
                r.row_number: r for r in conn.execute(select(evidence).where(evidence.c.submission_id == outcome.submission_id))
            }
        assert sorted(registered) == sorted(r["row_number"] for r in outcome.rows)
        for number, reg in registered.items():
            SEEN["accepted_rows"] += 1
            row = rows[number - 2]
            for key in ["element_id", *(c.key for c in INPUTS)]:
                value = row[key]
                if value is None or (isinstance(value, str) and not value.strip()):
                    continue
                SEEN["checked_cells"] += 1
                got = getattr(reg, REGISTER.get(key, key))
                if _same(key, value, got):
                    continue
                header = layout.COLUMN_BY_KEY[key].heading()
                assert _named(notes, number, header), (
                    f"{kind} row {number} column {header!r}: typed {value!r}, registered {got!r}, and no answer line says so",
                    notes,
                )
                SEEN["named_changes"] += 1

    check()
    print(f"\nproperty: {SEEN}")
    assert SEEN["accepted_rows"] >= 2 * SEEN["files"]  # most generated rows are valid: the property is exercised
    assert SEEN["named_changes"] > 0
