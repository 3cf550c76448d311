"""Returns as real departments send them: LibreOffice's .ods (and hostile ones), and corrected files."""

from __future__ import annotations

import io
import random
import zipfile
from datetime import date, timedelta

import pytest

from reaccreditation.db import make_engine, upgrade
from reaccreditation.demo import generate
from reaccreditation.demo.returns import fill, good_rows
from reaccreditation.intake.gx_validation import Validator
from reaccreditation.intake.pipeline import Sweep, inbox_files
from reaccreditation.intake.safety import UnsafeFile, check_file
from reaccreditation.intake.store import current_register
from reaccreditation.organisation.config import load_organisation
from reaccreditation.requests.workbook import RequestWorkbook
from reaccreditation.settings import Paths

TODAY = date(2027, 1, 20)
OFFICE = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
)


def _ods(body: str, manifest: str = "", extra: dict[str, bytes] | None = None) -> bytes:
    content = f'<?xml version="1.0"?><office:document-content {OFFICE}><office:automatic-styles>'
    content += '<style:style style:name="ta2" style:family="table"><style:table-properties table:display="false"/></style:style>'
    content += "</office:automatic-styles><office:body><office:spreadsheet>"
    content += f"{body}</office:spreadsheet></office:body></office:document-content>"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", compress_type=zipfile.ZIP_STORED)
        zf.writestr("content.xml", content)
        zf.writestr("META-INF/manifest.xml", manifest or "<manifest/>")
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


def _cell(text: str) -> str:
    return f'<table:table-cell office:value-type="string"><text:p>{text}</text:p></table:table-cell>'


def test_an_ods_is_checked_like_an_xlsx():
    good = _ods(
        f'<table:table table:name="Evidence"><table:table-row>{_cell("Element")}</table:table-row>'
        '<table:table-row table:number-rows-repeated="1048575"><table:table-cell '
        'table:number-columns-repeated="1024"/></table:table-row></table:table>'
        '<table:table table:name="_meta" '
        f'table:style-name="ta2"><table:table-row>{_cell("department_id")}</table:table-row></table:table>'
        f'<table:table table:name="Scratch" table:style-name="ta2"><table:table-row>{_cell("x")}</table:table-row></table:table>'
    )
    report = check_file("housing.ods", good)
    assert report.kind == "ods" and [(s.name, s.state, s.rows, s.cols) for s in report.sheets] == [
        ("Evidence", "visible", 1, 1),  # LibreOffice's trailing empty repeats are not content
        ("_meta", "hidden", 1, 1),
        ("Scratch", "hidden", 1, 1),
    ]
    assert report.notes == ["sheet 'Scratch' is hidden; it was not read"]  # _meta is read, so never noted

    far = _ods(
        '<table:table table:name="Evidence"><table:table-row '
        f'table:number-rows-repeated="50000">{_cell("x")}</table:table-row></table:table>'
    )
    with pytest.raises(UnsafeFile, match="has content up to row 50000"):
        check_file("housing.ods", far)
    locked = _ods('<table:table table:name="E"/>', manifest="<manifest><manifest:encryption-data/></manifest>")
    with pytest.raises(UnsafeFile, match="untick 'Save with password'"):
        check_file("housing.ods", locked)
    macro = _ods('<table:table table:name="E"/>', extra={"Basic/Standard/Module1.xml": b"<x/>"})
    with pytest.raises(UnsafeFile, match="macros"):
        check_file("housing.ods", macro)
    with pytest.raises(UnsafeFile, match="in Excel use File > Save As > Excel Workbook .*in LibreOffice, File > Save As"):
        check_file("housing.xlsx", b"PK\x03\x04 not really a zip")


def test_a_corrected_file_keeps_earlier_evidence_for_an_element_whose_new_row_fails(tmp_path, gx_dir):
    org = load_organisation(generate(tmp_path / "demo", date(2027, 3, 15))["config"], today=TODAY)
    dept = org.department("housing")
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    upgrade(url)
    engine = make_engine(url)
    paths = Paths(tmp_path / "data")
    rows = good_rows(org, dept, random.Random(1), partial_share=0.0)
    for r in rows:
        r["evidence_date"] = min(r["evidence_date"], TODAY - timedelta(days=1))
    request = RequestWorkbook(org, dept).to_bytes()
    paths.inbox.mkdir(parents=True)
    (paths.inbox / "housing-v1.xlsx").write_bytes(fill(request, rows))
    (first,) = Sweep(org, engine, paths, Validator, today=TODAY, run_id="v1").run(inbox_files(paths.inbox))
    assert first.status == "accepted"

    broken, renamed = rows[0]["element_id"], rows[1]["element_id"]
    corrected = [dict(r) for r in rows]
    corrected[0]["evidence_date"] = TODAY + timedelta(days=20)  # a typo: in the future
    corrected[1]["evidence_title"] = "Housing customer charter (2026 update)"
    (paths.inbox / "housing-v2.xlsx").write_bytes(fill(request, corrected))
    (second,) = Sweep(org, engine, paths, Validator, today=TODAY, run_id="v2").run(inbox_files(paths.inbox))
    assert second.status == "partial" and second.rows_rejected == 1
    (issue,) = second.details["issues"]
    assert "is in the future (this workbook was checked on 20 January 2027)" in issue["problem"]
    current = {r["element_id"]: r for r in current_register(engine, 2027)}
    assert set(current) == set(dept.elements)  # nothing knocked out
    assert current[broken]["version"] == 1 and current[broken]["title"] == rows[0]["evidence_title"]
    assert current[renamed]["version"] == 2 and current[renamed]["title"] == "Housing customer charter (2026 update)"
    assert any(broken in n and "stays current" in n for n in second.details["notes"])
