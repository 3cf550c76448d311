"""Every demo request workbook, opened again as a department (and LibreOffice) would open it."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from reaccreditation.requests.seed import import_history
from reaccreditation.requests.send import build_workbook
from reaccreditation.requests.workbook import read_meta, request_file_name
from reaccreditation.standards import load_standard
from reaccreditation.workbook import layout

from ..conftest import FIRST_DAY

HEADERS = [c.heading(load_standard("cse")) for c in layout.COLUMNS]


def col(key: str) -> str:
    return "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[[c.key for c in layout.COLUMNS].index(key)]


@pytest.fixture(scope="module")
def demo_org(tmp_path_factory):  # type: ignore[no-untyped-def]
    """The demo council and a migrated database with its history imported, shared by this module."""
    from reaccreditation.db import make_engine, upgrade
    from reaccreditation.demo import generate
    from reaccreditation.organisation.config import load_organisation

    folder = tmp_path_factory.mktemp("requests-workbooks")
    paths = generate(folder / "demo", FIRST_DAY)
    url = f"sqlite:///{folder / 'reaccreditation.db'}"
    upgrade(url)
    engine = make_engine(url)
    import_history(engine, paths["config"].parent / "history", FIRST_DAY.year)
    return load_organisation(paths["config"]), engine, paths


@pytest.fixture(scope="module")
def workbooks(demo_org):  # type: ignore[no-untyped-def]
    """All 12 demo workbooks with last year's evidence and ratings; prints the time taken."""
    org, engine, _ = demo_org
    started = time.perf_counter()
    built = {d.id: build_workbook(engine, org, d) for d in org.departments}
    data = {k: wb.to_bytes() for k, wb in built.items()}
    print(f"\n12 demo workbooks (with database prefill) built in {time.perf_counter() - started:.2f}s")
    return built, data


@pytest.fixture(scope="module")
def org(demo_org):  # type: ignore[no-untyped-def]
    return demo_org[0]


def test_every_workbook_reads_back_as_its_department(org, workbooks):
    built, data = workbooks
    assert len(data) == 12
    total_prefilled = total_statements = 0
    for d in org.departments:
        wb = load_workbook(io.BytesIO(data[d.id]))
        assert wb.sheetnames == [layout.COVER_SHEET, layout.EVIDENCE_SHEET, layout.META_SHEET]
        meta = read_meta(wb)
        assert meta["department_id"] == d.id and meta["request_reference"] == f"REQ-2027-{d.id}"
        assert meta["assessment_year"] == "2027" and meta["layout_version"] == str(layout.LAYOUT_VERSION)
        assert wb[layout.META_SHEET].sheet_state == "veryHidden"

        ws = wb[layout.EVIDENCE_SHEET]
        assert [c.value for c in ws[1]] == HEADERS
        rows = [r for r in ws.iter_rows(min_row=2, values_only=True) if r[0]]
        # element list == the department's ownership; each owned element at least once
        assert sorted({r[0] for r in rows}) == sorted(d.elements)
        prefilled = [r for r in rows if r[HEADERS.index("Pre-filled")]]
        assert len(prefilled) == len(built[d.id].prefilled)
        total_prefilled += len(prefilled)
        for r in prefilled:
            assert r[HEADERS.index("Evidence title")] and r[HEADERS.index("Evidence type")] in layout.EVIDENCE_TYPES
        # last year's statement of how the element is met comes back with last year's evidence
        statements = [r[HEADERS.index("How the element is met")] for r in prefilled]
        assert statements == [p.statement for p in built[d.id].prefilled]
        total_statements += sum(1 for s in statements if s)

        # no formulas anywhere
        for sheet in wb.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} is a formula"
    assert total_prefilled > 50  # the demo history pre-fills most elements
    assert total_statements > 40  # and its first item per element carries a statement


def test_reference_cells_are_locked_input_cells_unlocked_and_sheets_protected(org, workbooks):
    _, data = workbooks
    d = org.department("housing")
    wb = load_workbook(io.BytesIO(data[d.id]))
    ws = wb[layout.EVIDENCE_SHEET]
    assert ws.protection.sheet and wb[layout.COVER_SHEET].protection.sheet and wb[layout.META_SHEET].protection.sheet
    n = len([r for r in ws.iter_rows(min_row=2, max_col=1, values_only=True) if r[0]])
    for c in layout.COLUMNS:
        cell = ws[f"{col(c.key)}2"]
        assert cell.protection.locked is (not c.input), c.key
    spare = n + 2
    assert ws[f"A{spare}"].protection.locked is False  # spare rows: pick the element
    assert ws[f"B{spare}"].protection.locked is True
    assert ws.max_row == n + 1 + layout.SPARE_ROWS


def test_dropdowns_and_limits_cover_every_input_row(org, workbooks):
    _, data = workbooks
    d = org.department("customer-services")  # 15 elements: the id list is short enough to inline
    wb = load_workbook(io.BytesIO(data[d.id]))
    ws = wb[layout.EVIDENCE_SHEET]
    last = ws.max_row
    lists = {str(dv.sqref): dv.formula1 for dv in ws.data_validations.dataValidation if dv.type == "list"}
    assert lists[f"{col('evidence_type')}2:{col('evidence_type')}{last}"] == '"' + ",".join(layout.EVIDENCE_TYPES) + '"'
    assert lists[f"{col('self_rating')}2:{col('self_rating')}{last}"] == '"' + ",".join(load_standard("cse").labels) + '"'
    assert lists[f"{col('confirm')}2:{col('confirm')}{last}"] == '"Still current,Replaced"'
    assert lists[f"{col('cplus_claim')}2:{col('cplus_claim')}{last}"] == '"Yes,No"'
    spare = [f for ref, f in lists.items() if ref.startswith("A")]
    assert spare == ['"' + ",".join(d.elements) + '"']
    dates = [dv for dv in ws.data_validations.dataValidation if dv.type == "date"]
    assert len(dates) == 1 and dates[0].formula1 == "DATE(2026,3,15)" and dates[0].showErrorMessage
    assert dates[0].formula2 == "MIN(TODAY(),DATE(2027,3,15))"  # the window the cover states, never in the future
    cover = [str(v) for r in wb[layout.COVER_SHEET].iter_rows(values_only=True) for v in r if v]
    window = layout.EvidenceWindow.of(org.assessment).describe()
    assert window in cover and window in dates[0].error and "15 March 2026 to 15 March 2027" in window
    assert all(dv.showErrorMessage and dv.error for dv in ws.data_validations.dataValidation)


def test_last_assessment_is_shown_per_element(org, workbooks, demo_org):
    import json

    _, data = workbooks
    planted = json.loads(demo_org[2]["planted"].read_text())
    partial = planted["last_year_partials"][0]
    owner = org.owners(partial)[0]
    ws = load_workbook(io.BytesIO(data[owner.id]))[layout.EVIDENCE_SHEET]
    shown = {r[0]: r[HEADERS.index("Last assessment")] for r in ws.iter_rows(min_row=2, values_only=True) if r[0]}
    assert shown[partial].startswith("Partial Compliance (2026). Action: ")
    assert all(v for v in shown.values())
    cover = "\n".join(
        str(v) for r in load_workbook(io.BytesIO(data[owner.id]))[layout.COVER_SHEET].iter_rows(values_only=True) for v in r if v
    )
    assert f"not fully met ({partial}" in cover or f", {partial}" in cover


def test_prefilled_dates_inside_the_window_are_kept_older_ones_asked_for(org):
    from datetime import date

    from reaccreditation.requests.workbook import PrefilledEvidence, RequestWorkbook

    d = org.department("digital")
    window = org.assessment.evidence_window_start
    items = [
        PrefilledEvidence(d.elements[0], "Fresh", "Document", evidence_date=window),
        PrefilledEvidence(d.elements[0], "Old", "Document", evidence_date=date(2025, 6, 30), notes="Board paper"),
    ]
    rows = [r for r in RequestWorkbook(org, d, prefilled=items).rows() if r.get("prefill_note")]
    assert rows[0]["evidence_date"] == window and rows[0]["notes"] is None
    assert rows[1]["evidence_date"] is None
    assert rows[1]["notes"] == "Board paper"  # the department's own words, nothing of ours
    assert rows[1]["prefill_note"] == (
        f"{layout.PREFILL_NOTE}. Last year's copy is dated 30 June 2025, before this year's evidence window: "
        "enter the date of the current version."
    )
    assert layout.COLUMN_BY_KEY["prefill_note"].input is False  # a locked reference cell


def test_text_that_looks_like_a_formula_stays_text(org):
    from reaccreditation.requests.workbook import PrefilledEvidence, RequestWorkbook

    d = org.department("digital")
    item = PrefilledEvidence(d.elements[0], '=HYPERLINK("http://evil","click")', "Document", notes="+cmd|' /C calc'!A0")
    ws = load_workbook(io.BytesIO(RequestWorkbook(org, d, prefilled=[item]).to_bytes()))[layout.EVIDENCE_SHEET]
    cell = ws[f"{col('evidence_title')}2"]
    assert cell.value == '=HYPERLINK("http://evil","click")' and cell.data_type == "s" and cell.quotePrefix


def test_long_element_lists_use_the_hidden_list():
    from reaccreditation.demo import build_config
    from reaccreditation.organisation.config import parse_organisation
    from reaccreditation.requests.workbook import RequestWorkbook

    config = build_config(FIRST_DAY)
    config["departments"][0]["elements"] = [e for d in config["departments"] for e in d["elements"]][:57]
    org = parse_organisation(config)
    d = org.departments[0]
    wb = load_workbook(io.BytesIO(RequestWorkbook(org, d).to_bytes()))
    spare = [dv for dv in wb[layout.EVIDENCE_SHEET].data_validations.dataValidation if str(dv.sqref).startswith("A")]
    n = len(set(d.elements))
    assert spare[0].formula1 == f"'_meta'!$D$1:$D${n}"
    assert [r[0] for r in wb[layout.META_SHEET].iter_rows(min_col=4, max_col=4, values_only=True)][:n] == RequestWorkbook(
        org, d
    ).element_ids


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Housing Services", "Evidence request 2027 - Housing Services.xlsx"),
        ("Children's Services", "Evidence request 2027 - Childrens Services.xlsx"),
        ("Policy, Performance and Insight", "Evidence request 2027 - Policy Performance and Insight.xlsx"),
        ("R&D / Ops: <new>", "Evidence request 2027 - R and D Ops new.xlsx"),
        ("../../etc", "Evidence request 2027 - etc.xlsx"),
    ],
)
def test_attachment_names_use_safe_characters_only(name, expected):
    assert request_file_name(2027, name) == expected


def _soffice(tmp_path: Path, source: Path, target: str, outdir: Path) -> Path:
    """Open ``source`` in headless LibreOffice Calc and save it as ``target`` (a convert-to filter spec)."""
    soffice = shutil.which("soffice")
    assert soffice, "LibreOffice is not installed: scripts/install-libreoffice (scripts/test runs it)"
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [
            soffice,
            "--headless",
            f"-env:UserInstallation=file://{tmp_path}/lo",
            "--convert-to",
            target,
            "--outdir",
            str(outdir),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )
    assert out.returncode == 0, out.stderr
    (made,) = list(outdir.iterdir())  # one output per call (a sheet's CSV is named after the sheet)
    return made


def test_libreoffice_opens_the_workbook(org, workbooks, tmp_path):
    _, data = workbooks
    d = org.department("housing")
    path: Path = tmp_path / "housing.xlsx"
    path.write_bytes(data[d.id])
    # filter options: comma, quote, UTF-8, ..., token 9 = as shown (dd/mm/yyyy), token 12 = sheet 2 (Evidence)
    made = _soffice(
        tmp_path, path, "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,2", tmp_path / "csv"
    )
    rows = list(csv.reader(made.read_text(encoding="utf-8").splitlines()))
    assert rows[0] == HEADERS
    ids = [r[0] for r in rows[1:] if r and r[0]]
    assert sorted(set(ids)) == sorted(d.elements)
    pre = HEADERS.index("Pre-filled")
    prefilled = [r for r in rows[1:] if r and r[pre].startswith(layout.PREFILL_NOTE)]
    expected = workbooks[0][d.id].prefilled
    assert [r[HEADERS.index("Evidence title")] for r in prefilled] == [p.evidence_title for p in expected]
    # last year's dates are all before this year's window: blank, the reason in the locked Pre-filled column
    assert {r[HEADERS.index("Date of evidence")] for r in prefilled} == {""}
    assert all(
        f"Last year's copy is dated {p.evidence_date.day} {p.evidence_date:%B %Y}" in r[pre]
        for r, p in zip(prefilled, expected, strict=True)
    )
    assert not any("Last year's copy" in r[HEADERS.index("Notes")] for r in prefilled)  # the Notes column is the department's


def _fill_as_a_department(request: bytes, org, dept) -> tuple[bytes, int]:  # type: ignore[no-untyped-def]
    """Every element row answered: pre-filled rows confirmed (a date where last year's was too old), others filled."""
    import random

    from reaccreditation.demo.returns import good_rows, header_columns
    from reaccreditation.workbook.sheets import set_text

    wb = load_workbook(io.BytesIO(request))
    ws = wb[layout.EVIDENCE_SHEET]
    cols = header_columns(ws)
    fresh = {r["element_id"]: r for r in good_rows(org, dept, random.Random(3), partial_share=0.0)}
    filled = 0
    for r in range(2, ws.max_row + 1):
        element = ws.cell(row=r, column=cols["element_id"]).value
        if not element:
            continue
        filled += 1
        if ws.cell(row=r, column=cols["prefill_note"]).value:
            set_text(ws.cell(row=r, column=cols["confirm"]), "Still current")
            if ws.cell(row=r, column=cols["evidence_date"]).value is None:
                ws.cell(row=r, column=cols["evidence_date"]).value = org.assessment.evidence_window_start + timedelta(days=30)
            continue
        for key, value in fresh[str(element)].items():
            if key != "element_id":
                cell = ws.cell(row=r, column=cols[key])
                if isinstance(value, str):
                    set_text(cell, value)
                else:
                    cell.value = value
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue(), filled


def _old_layout(filled: bytes) -> bytes:
    """The same return in layout version 1: no "How the element is met" column, ``layout_version`` 1."""
    wb = load_workbook(io.BytesIO(filled))
    wb[layout.EVIDENCE_SHEET].delete_cols([c.key for c in layout.COLUMNS].index("statement") + 1)
    meta = wb[layout.META_SHEET]
    [row] = [r for r in range(1, meta.max_row + 1) if meta.cell(row=r, column=1).value == "layout_version"]
    meta.cell(row=row, column=2).value = 1
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_a_libreoffice_return_in_either_format_is_accepted_with_every_row(org, workbooks, demo_org, tmp_path, gx_dir):
    """The department fills the request workbook and LibreOffice saves it, as .ods (its own format) and as .xlsx:
    both go through real intake (safety checks, calamine, GX) with every row accepted, no false note, and every
    statement of how an element is met registered as typed (or pre-filled). A layout version 1 workbook (before
    the statement column) is read the same, its rows registered without statements."""
    from reaccreditation.db import make_engine, upgrade
    from reaccreditation.intake.gx_validation import Validator
    from reaccreditation.intake.pipeline import Sweep, inbox_files
    from reaccreditation.intake.store import current_register
    from reaccreditation.settings import Paths

    _, data = workbooks
    d = org.department("housing")
    filled, rows = _fill_as_a_department(data[d.id], org, d)
    source = tmp_path / "filled" / "Evidence request 2027 - Housing Services.xlsx"
    source.parent.mkdir()
    source.write_bytes(filled)
    typed = {}  # sheet row -> the statement the workbook holds (the department's, or last year's pre-filled)
    ws = load_workbook(io.BytesIO(filled))[layout.EVIDENCE_SHEET]
    for r in range(2, ws.max_row + 1):
        if ws[f"{col('element_id')}{r}"].value:
            typed[r] = ws[f"{col('statement')}{r}"].value
    assert sum(1 for s in typed.values() if s) > rows // 2  # the demo rows, and last year's first item per element
    old = tmp_path / "v1" / source.name
    old.parent.mkdir()
    old.write_bytes(_old_layout(filled))
    saved = {
        "ods": _soffice(tmp_path, source, "ods", tmp_path / "ods"),
        "xlsx": _soffice(tmp_path, source, "xlsx:Calc MS Excel 2007 XML", tmp_path / "xlsx"),
        "v1": old,
    }
    assert saved["ods"].read_bytes()[:2] == b"PK" and b"opendocument.spreadsheet" in saved["ods"].read_bytes()[:100]
    today = FIRST_DAY - timedelta(days=10)
    for kind, path in saved.items():
        paths = Paths(tmp_path / f"data-{kind}")
        paths.inbox.mkdir(parents=True)
        (paths.inbox / path.name).write_bytes(path.read_bytes())
        url = f"sqlite:///{tmp_path / f'{kind}.db'}"
        upgrade(url)
        engine = make_engine(url)
        (outcome,) = Sweep(org, engine, paths, Validator, today=today, run_id=kind).run(inbox_files(paths.inbox))
        assert outcome.status == "accepted", (kind, outcome.message, outcome.details.get("issues"))
        assert outcome.department_id == "housing" and outcome.request_reference == "REQ-2027-housing"  # found by _meta
        assert outcome.rows_accepted == rows == outcome.rows_total, kind
        assert outcome.details["notes"] == [], (kind, outcome.details["notes"])  # no "sheet '_meta' is hidden"
        register = current_register(engine, 2027)
        assert len(register) == rows and {r["element_id"] for r in register} == set(d.elements)
        assert not any("Last year's" in (r["notes"] or "") for r in register)  # hints never land as the department's note
        statements = {r["row_number"]: r["statement"] for r in register}
        assert statements == ({r: None for r in typed} if kind == "v1" else typed), kind
