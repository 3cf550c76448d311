"""Build the intake test corpus: returned workbooks good, wrong and hostile, for the demo council.

``python tests/data/intake/make_corpus.py [OUT]`` writes it (default ``tests/data/intake/corpus``) for
the demo council of the tests (first day 2027-03-15); the tests call :func:`build` into a temporary
folder so the corpus always matches the current request workbook. ``expected.csv`` beside this script
is the table of expected outcomes the tests read; the file names here must match it.
"""

from __future__ import annotations

import io
import sys
import zipfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

from openpyxl import Workbook, load_workbook

from reaccreditation.demo.returns import fill, good_rows
from reaccreditation.organisation.config import Organisation
from reaccreditation.requests.workbook import PrefilledEvidence, RequestWorkbook
from reaccreditation.standards import load_standard
from reaccreditation.workbook import layout
from reaccreditation.workbook.sheets import set_text

CSE = load_standard("cse")

HERE = Path(__file__).parent
FIRST_DAY = date(2027, 3, 15)
STALE = date(2019, 3, 1)


def _rows(org: Organisation, dept_id: str, seed: int = 1) -> list[dict]:
    import random

    rows = good_rows(org, org.department(dept_id), random.Random(seed), partial_share=0.0)
    return rows


def _request(org: Organisation, dept_id: str, **kwargs) -> bytes:  # type: ignore[no-untyped-def]
    return RequestWorkbook(org, org.department(dept_id), **kwargs).to_bytes()


def _rezip(data: bytes, change: Callable[[str, bytes], bytes | None], extra: dict[str, bytes] | None = None) -> bytes:
    """Copy a package, letting ``change`` rewrite (or drop, with None) each member."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = change(info.filename, src.read(info.filename))
            if content is not None:
                dst.writestr(info.filename, content)
        for name, content in (extra or {}).items():
            dst.writestr(name, content)
    return out.getvalue()


def _set_meta(data: bytes, **values: str) -> bytes:
    wb = load_workbook(io.BytesIO(data))
    ws = wb[layout.META_SHEET]
    for row in ws.iter_rows(min_row=1, max_col=2):
        if row[0].value in values:
            set_text(row[1], values[row[0].value])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _plain_workbook(headers: list[str], rows: list[list], merge: str | None = None) -> bytes:
    """A department's own workbook (no hidden meta): identified by its file name."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Evidence"
    for c, h in enumerate(headers, 1):
        set_text(ws.cell(row=1, column=c), h)
    for r, values in enumerate(rows, 2):
        for c, v in enumerate(values, 1):
            if v is not None:
                set_text(ws.cell(row=r, column=c), v)
    if merge:
        ws.merge_cells(merge)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _csv(org: Organisation, dept_id: str, encoding: str, title_suffix: str = "") -> bytes:
    import csv

    buf = io.StringIO()
    w = csv.writer(buf)
    keys = ["element_id", "evidence_title", "evidence_type", "link", "evidence_date", "owner", "self_rating", "cplus_claim"]
    w.writerow([layout.COLUMN_BY_KEY[k].heading(CSE) for k in keys])
    for r in _rows(org, dept_id, 5):
        r = r | {"evidence_date": r["evidence_date"].strftime("%d/%m/%Y"), "evidence_title": r["evidence_title"] + title_suffix}
        w.writerow([r[k] for k in keys])
    text = buf.getvalue()
    return (b"\xef\xbb\xbf" + text.encode("utf-8")) if encoding == "utf-8-sig" else text.encode(encoding)


def sweep_one(org: Organisation) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    # 1. good, with formula-like text that must stay text
    rows = _rows(org, "customer-services")
    rows[0]["notes"] = "=1+1"
    rows[1]["evidence_title"] = '=HYPERLINK("https://evil.example","click")'
    files["customer-services-evidence-2027.xlsx"] = fill(_request(org, "customer-services"), rows)
    # 2. partly wrong: stale date, bad link, unknown rating, unconfirmed pre-filled row
    dept = org.department("housing")
    pre = PrefilledEvidence(
        dept.elements[-1],
        "Tenant satisfaction survey 2026",
        "Survey",
        "tenant-survey.pdf",
        date(2026, 6, 1),
        self_rating="Compliance",
    )
    rows = _rows(org, "housing")
    rows[0]["evidence_date"] = STALE
    rows[1]["link"] = "see the shared folder"
    rows[2]["self_rating"] = "Excellent"
    rows = [r for r in rows if r["element_id"] != pre.element_id]  # the pre-filled row stays as it came
    files["housing-evidence-2027.xlsx"] = fill(_request(org, "housing", prefilled=[pre]), rows)
    # 3. wrong department: an element owned by People & OD in Policy & Insight's return
    rows = _rows(org, "policy-insight")
    rows.append(_rows(org, "people-od")[0] | {"evidence_title": "Staff survey borrowed from People and OD"})
    files["policy-insight-evidence-2027.xlsx"] = fill(_request(org, "policy-insight"), rows)
    # 4. wrong year: last year's workbook
    files["digital-evidence-2026.xlsx"] = _set_meta(
        fill(_request(org, "digital"), _rows(org, "digital")), assessment_year="2026", request_reference="REQ-2026-digital"
    )
    # 5. shuffled and renamed columns, the department's own workbook
    dept = org.department("people-od")
    headers = ["Rating", "Title", "Element ref", "URL", "Type", "Evidence date", "Owner", "Remarks"]
    keys = ["self_rating", "evidence_title", "element_id", "link", "evidence_type", "evidence_date", "owner", None]
    data_rows = [[r.get(k) if k else "typed by hand" for k in keys] for r in _rows(org, "people-od")]
    files["people-od_returns.xlsx"] = _plain_workbook(headers, data_rows)
    # 6. merged cells: one element cell merged over its two evidence rows
    rows = _rows(org, "communications")
    second = rows[0] | {"element_id": None, "evidence_title": "Second item for the same element", "link": "second-item.pdf"}
    headers = [
        layout.COLUMN_BY_KEY[k].heading(CSE)
        for k in ("element_id", "evidence_title", "evidence_type", "link", "evidence_date", "owner", "self_rating")
    ]
    table = [
        [r.get(k) for k in ("element_id", "evidence_title", "evidence_type", "link", "evidence_date", "owner", "self_rating")]
        for r in [rows[0], second, *rows[1:]]
    ]
    files["communications-evidence.xlsx"] = _plain_workbook(headers, table, merge="A2:A3")
    # 7. empty: the request workbook sent back untouched
    files["adult-social-care-evidence-2027.xlsx"] = _request(org, "adult-social-care")
    # 8. corrupt zip: a workbook cut off half way
    good = fill(_request(org, "revenues-benefits"), _rows(org, "revenues-benefits"))
    files["revenues-benefits-evidence.xlsx"] = good[: len(good) // 2]
    # 9. an old .xls (OLE compound file) and 10. a password-protected workbook (OLE with EncryptionInfo)
    files["childrens-services-evidence.xls"] = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + "Workbook".encode("utf-16-le") + b"\x00" * 1024
    )
    files["complaints-legal-evidence.xlsx"] = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + "EncryptionInfo".encode("utf-16-le") + b"\x00" * 1024
    )
    # 11. macros in a package renamed .xlsx
    good = fill(_request(org, "waste-environment"), _rows(org, "waste-environment"))
    files["waste-environment-evidence-2027.xlsx"] = _rezip(
        good,
        lambda n, c: (
            c.replace(
                b'<Default Extension="xml"',
                b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/><Default Extension="xml"',
            )
            if n == "[Content_Types].xml"
            else c
        ),
        extra={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0fake vba project"},
    )
    # 12. huge declared dimension (python-calamine would abort the process)
    small = _plain_workbook(["Element", "Evidence title"], [["4.1.1", "x"]])
    files["libraries-culture-evidence.xlsx"] = _rezip(
        small,
        lambda n, c: (
            c.replace(b'<dimension ref="A1:B2" />', b'<dimension ref="A1:XFD1048576" />').replace(
                b"</sheetData>",
                b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>far corner</t></is></c></row></sheetData>',
            )
            if n.startswith("xl/worksheets/sheet")
            else c
        ),
    )
    # 13. Strict OOXML, sender unknown (no department in the name, no meta)
    files["evidence-final.xlsx"] = _rezip(
        small,
        lambda n, c: (
            c.replace(
                b"http://schemas.openxmlformats.org/spreadsheetml/2006/main", b"http://purl.oclc.org/ooxml/spreadsheetml/main"
            )
            if n == "xl/workbook.xml"
            else c
        ),
    )
    # 14. unknown department in the hidden meta
    files["parks-return.xlsx"] = _set_meta(fill(_request(org, "housing"), _rows(org, "housing")), department_id="parks-gardens")
    # 15. CSV, UTF-8 with BOM; 16. CSV saved by Excel on Windows (cp1252)
    files["waste-environment.csv"] = _csv(org, "waste-environment", "utf-8-sig")
    files["libraries-culture-cp1252.csv"] = _csv(org, "libraries-culture", "cp1252", " – café")
    # 17. zip bomb: a part that expands a thousand-fold
    files["digital-bomb.xlsx"] = _rezip(small, lambda n, c: c, extra={"xl/media/padding.xml": b" " * 5_000_000})
    return files


def sweep_two(org: Organisation, first: dict[str, bytes]) -> dict[str, bytes]:
    """The second sweep: an identical re-send, and housing's corrected workbook."""
    dept = org.department("housing")
    pre = PrefilledEvidence(
        dept.elements[-1],
        "Tenant satisfaction survey 2026",
        "Survey",
        "tenant-survey.pdf",
        date(2026, 6, 1),
        self_rating="Compliance",
    )
    rows = [r for r in _rows(org, "housing") if r["element_id"] != pre.element_id]
    rows.append({"element_id": pre.element_id, "confirm": "Still current"})
    return {
        "customer-services-evidence-2027 (copy).xlsx": first["customer-services-evidence-2027.xlsx"],
        "housing-evidence-2027-corrected.xlsx": fill(_request(org, "housing", prefilled=[pre]), rows),
    }


def build(org: Organisation, out: Path) -> dict[int, dict[str, Path]]:
    """Write both sweeps under ``out/sweep1`` and ``out/sweep2``."""
    first = sweep_one(org)
    result: dict[int, dict[str, Path]] = {}
    for n, files in ((1, first), (2, sweep_two(org, first))):
        folder = out / f"sweep{n}"
        folder.mkdir(parents=True, exist_ok=True)
        result[n] = {}
        for name, content in files.items():
            (folder / name).write_bytes(content)
            result[n][name] = folder / name
    return result


def main() -> None:
    import tempfile

    from reaccreditation.demo import generate
    from reaccreditation.organisation.config import load_organisation

    out = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "corpus"
    paths = generate(Path(tempfile.mkdtemp()) / "demo", FIRST_DAY)
    org = load_organisation(paths["config"], today=date(2027, 1, 20))
    for n, files in build(org, out).items():
        print(f"sweep {n}: {len(files)} files in {out / f'sweep{n}'}")


if __name__ == "__main__":
    main()
