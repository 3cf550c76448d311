"""Build the messy-return corpus: files a careful person would expect an answer about, cell by cell.

Each case is one class of issue 21 (no silent change to what a department sent, and an answer for every
file): merged and repeated headings, invisible and control characters, unclosed CSV quotes, ragged rows,
error and formula cells, duplicate zip parts, ``sep=;`` and semicolon CSVs, a PDF renamed .xlsx, an HTML
polyglot, an embedded OLE object, a link with a zero-width space, names without an extension or ending
in a space, a right-to-left override in a name, empty and hidden-name files, a CSV field over the csv
module's 128 KiB limit, a sheet formatted to row 1,048,576 with a few real rows; and, found later, error cells
in a LibreOffice (.ods) file, short CSV rows, control characters in a CSV row that is sent back for correcting,
a quoted CSV value over several lines, and HTML typed into cells and headings (shown as text in the answer).

``expected.csv`` beside this script holds, per case, the outcome, the row counts, who is answered and
the text the answer must contain (``||`` separates several; a leading ``!`` means "must not contain").
``python tests/data/messy/make_messy.py [INBOX]`` writes the corpus by hand; the test calls :func:`build`.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import re
import sys
import zipfile
from datetime import date, timedelta
from pathlib import Path

from reaccreditation.organisation.config import Organisation

HERE = Path(__file__).parent
if "make_hostile" not in sys.modules:  # the hostile corpus's building blocks (one module, as its tests load it)
    _spec = importlib.util.spec_from_file_location("make_hostile", HERE.parent / "hostile" / "make_hostile.py")
    sys.modules["make_hostile"] = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
    _spec.loader.exec_module(sys.modules["make_hostile"])  # type: ignore[union-attr]
hostile = sys.modules["make_hostile"]

FIRST_DAY, RUN_DAY = hostile.FIRST_DAY, hostile.RUN_DAY
HEADERS = [*hostile.HEADERS, "Notes"]
KEYS = [*hostile.KEYS, "notes"]


def table(org: Organisation, dept_id: str, n: int | None = None) -> list[list]:
    """Good rows as cells in HEADERS order (dates as UK text, as people type them)."""
    out = []
    for r in hostile.rows(org, dept_id)[:n]:
        out.append([r["evidence_date"].strftime("%d/%m/%Y") if k == "evidence_date" else r.get(k) for k in KEYS])
    return out


def csv_of(headers: list[str], rows: list[list], delimiter: str = ",") -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter)
    w.writerow(headers)
    w.writerows(rows)
    return buf.getvalue().encode()


def xml_swap(data: bytes, swaps: dict[bytes, bytes]) -> bytes:
    """Replace placeholder text in every XML part (cells are inline strings or shared strings)."""

    def change(name: str, content: bytes) -> bytes:
        for old, new in swaps.items():
            content = content.replace(old, new)
        return content

    return hostile.rezip(data, change)


def cell_swap(data: bytes, token: bytes, cell_xml: bytes) -> bytes:
    """Replace the whole cell holding ``token`` (an inline string) with ``cell_xml`` (``{r}`` = its reference)."""

    def change(name: str, content: bytes) -> bytes:
        if not name.startswith("xl/worksheets/"):
            return content
        pattern = rb'<c r="([A-Z]+\d+)"[^>]*><is><t[^>]*>' + re.escape(token) + rb"</t></is></c>"
        return re.sub(pattern, lambda m: cell_xml.replace(b"{r}", m.group(1)), content)

    return hostile.rezip(data, change)


ODS_ERRORS = {"#REF!": "of:=#REF!", "#N/A": "of:=NA()", "#DIV/0!": "of:=1/0"}


def ods_of(headers: list[str], rows: list[list]) -> bytes:
    """A minimal OpenDocument spreadsheet as LibreOffice writes it; a cell ``#REF!`` (or ``#N/A``, ``#DIV/0!``) is an
    error cell: LibreOffice keeps the formula, an empty string value and ``calcext:value-type="error"``."""
    from xml.sax.saxutils import escape, quoteattr

    def cell(value: object) -> str:
        if value is None:
            return "<table:table-cell/>"
        text = str(value)
        if text in ODS_ERRORS:
            return (
                f'<table:table-cell table:formula={quoteattr(ODS_ERRORS[text])} office:value-type="string" '
                f'office:string-value="" calcext:value-type="error"><text:p>{escape(text)}</text:p></table:table-cell>'
            )
        return (
            f'<table:table-cell office:value-type="string" calcext:value-type="string"><text:p>{escape(text)}</text:p>'
            "</table:table-cell>"
        )

    body = "".join(f"<table:table-row>{''.join(cell(v) for v in row)}</table:table-row>" for row in [headers, *rows])
    ns = {
        "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
        "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
        "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
        "calcext": "urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0",
    }
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        + " ".join(f'xmlns:{k}="{v}"' for k, v in ns.items())
        + ' office:version="1.3"><office:body><office:spreadsheet><table:table table:name="Evidence">'
        + body
        + "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:'
        'manifest:1.0" manifest:version="1.3"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/'
        'vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type='
        '"text/xml"/></manifest:manifest>'
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")  # first, stored
        z.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
        z.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def window_date(org: Organisation) -> date:
    """A date inside the evidence window whose day and month could be swapped (the 3rd or 4th)."""
    d = org.assessment.evidence_window_start + timedelta(days=75)
    return d.replace(day=3 if d.month != 3 else 4)


def cases(org: Organisation) -> list[hostile.Case]:
    Case, plain = hostile.Case, hostile.plain
    t = table
    huge_field = t(org, "waste-environment")
    huge_field[0][1] = "Customer survey " * 9000  # 144,000 characters: over the csv module's 131,072 limit
    comm = t(org, "communications", 2)
    merged = plain(
        ["Element", "Evidence title", "", *HEADERS[2:]],
        [[r[0], r[1], "(second half of the title)" if i == 0 else None, *r[2:]] for i, r in enumerate(comm)],
    )
    merged = hostile.rezip(
        merged,
        lambda n, c: (
            c.replace(b"</sheetData>", b'</sheetData><mergeCells count="1"><mergeCell ref="B1:C1"/></mergeCells>')
            if n == "xl/worksheets/sheet1.xml"
            else c
        ),
    )
    rep_rows = t(org, "childrens-services", 2)
    repeated = plain(
        [*HEADERS, "Evidence title"], [[*r, "A different title typed here" if i == 0 else None] for i, r in enumerate(rep_rows)]
    )
    owner_zw = plain([h.replace("Owner", "Evidence\u200b owner") for h in HEADERS], t(org, "complaints-legal"))
    value_zw = t(org, "adult-social-care")
    value_zw[0][1] = "Customer\u200b panel\u2060 minutes"
    quote_rows = t(org, "people-od")
    quote_csv = csv_of(HEADERS, quote_rows).replace(
        b"," + quote_rows[1][1].encode() + b",", b',"' + quote_rows[1][1].encode() + b",", 1
    )
    ragged = t(org, "revenues-benefits")
    ragged_csv = csv_of(HEADERS, ragged[:-2])
    extra = [*ragged[-2], "stray value, lost"]
    short = ragged[-1][:6]
    ragged_csv += csv_of(HEADERS, [extra, short]).split(b"\r\n", 1)[1]
    control_rows = t(org, "libraries-culture")
    control_rows[0][1] = control_rows[0][1] + " CTRLTOKEN"
    control = xml_swap(plain(HEADERS, control_rows), {b" CTRLTOKEN": b" end\x1b\xc2\x85\x7f"})
    err_rows = t(org, "policy-insight")
    err_rows[0][7] = "ERRVALUE"
    err_rows[1][1] = "ERRREF"
    errors = cell_swap(
        cell_swap(plain(HEADERS, err_rows), b"ERRVALUE", b'<c r="{r}" t="e"><f>1/0+A1</f><v>#VALUE!</v></c>'),
        b"ERRREF",
        b'<c r="{r}" t="e"><f>#REF!</f><v>#REF!</v></c>',
    )
    f_rows = t(org, "customer-services")
    f_rows[0][7] = "FORMULA"
    formula = cell_swap(
        plain(HEADERS, f_rows), b"FORMULA", b'<c r="{r}" t="str"><f>"Checked "&amp;"twice"</f><v>Checked twice</v></c>'
    )
    wb = plain(HEADERS, t(org, "housing"))
    dup = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(wb)) as src, zipfile.ZipFile(dup, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename))
        with_junk = plain(HEADERS, [["9.9.9", "Other copy", "Document", "x", "01/06/2026", "A", "Compliance", None]])
        with zipfile.ZipFile(io.BytesIO(with_junk)) as other:
            dst.writestr("xl/worksheets/sheet1.xml", other.read("xl/worksheets/sheet1.xml"))
    semicolon = csv_of(HEADERS, t(org, "waste-environment"), delimiter=";")
    amb_rows = t(org, "digital")
    d = window_date(org)
    amb_rows[0][4] = d.strftime("%d/%m/%Y")
    several = hostile.good(org, "customer-services", mutate=_old_evidence_sheet)
    norm_rows = t(org, "housing")
    norm_rows[0][6] = norm_rows[0][6].lower()
    norm_rows[1][1] = "  " + norm_rows[1][1] + "  "
    huge = hostile._sheet_xml(
        plain(HEADERS, t(org, "libraries-culture")),
        lambda c: re.sub(rb'<dimension ref="[^"]+"\s*/>', b'<dimension ref="A1:XFD1048576"/>', c).replace(
            b"</sheetData>", b'<row r="1048576" s="0" customFormat="1"><c r="XFD1048576" s="0"/></row></sheetData>'
        ),
    )
    link_rows = t(org, "waste-environment")
    link_rows[0][3] = "https://intranet.example.org/\u200bwaste/evidence"
    good_people = plain(HEADERS, t(org, "people-od"))
    ods_rows = t(org, "digital")
    ods_rows[0][1] = "#REF!"  # a required title
    ods_rows[1][5] = "#N/A"  # an optional owner
    short_rows = t(org, "communications")
    short_csv = csv_of(HEADERS, short_rows[:-2]) + csv_of(HEADERS, [short_rows[-2][:6], short_rows[-1][:7]]).split(b"\r\n", 1)[1]
    ctrl_rows = t(org, "people-od")
    ctrl_rows[0][1] += " end\x1b"  # this row is rejected (no evidence type), so it goes back in the workbook to correct
    ctrl_rows[0][2] = None
    ctrl_rows[1][1] += " tidy\x1b"  # this one is accepted: the character is removed and the answer says so
    multi_rows = t(org, "childrens-services", 3)
    multi_rows[0][1] = "Family survey, spring\nand autumn, both rounds"
    html_rows = t(org, "adult-social-care", 3)
    html_rows[0][1] = "<script>alert('title')</script> Carers' panel"
    html_rows[1][2] = "<img src=x onerror=alert(1)>"
    return [
        Case(
            "csv_huge_field",
            "waste-environment-long.csv",
            csv_of(HEADERS, huge_field),
        ),
        Case("hidden_name", ".housing-evidence.xlsx", plain(HEADERS, t(org, "housing"))),
        Case("empty_one", "digital-evidence.xlsx", b""),
        Case("empty_two", "people-od-evidence.xlsx", b""),
        Case("merged_heading", "communications-merged-heading.xlsx", merged),
        Case("repeated_heading", "childrens-services-two-titles.xlsx", repeated),
        Case("invisible_heading", "complaints-legal-zero-width.xlsx", owner_zw),
        Case("invisible_value", "adult-social-care-zero-width.xlsx", plain(HEADERS, value_zw)),
        Case("csv_unclosed_quote", "people-od-quote.csv", quote_csv),
        Case("csv_ragged", "revenues-benefits-ragged.csv", ragged_csv),
        Case("control_characters", "libraries-culture-control.xlsx", control),
        Case("error_cells", "policy-insight-errors.xlsx", errors),
        Case("formula_cached", "customer-services-formula.xlsx", formula),
        Case("duplicate_part", "housing-two-sheets.xlsx", dup.getvalue()),
        Case("sep_line", "digital-sep.csv", b"sep=,\r\n" + csv_of(HEADERS, t(org, "digital"))),
        Case("semicolon_csv", "waste-environment-semicolons.csv", semicolon),
        Case("pdf_renamed", "housing-report.xlsx", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n"),
        Case("ambiguous_date", "digital-dates.csv", csv_of(HEADERS, amb_rows)),
        Case("name_trailing_space", "complaints-legal-evidence.xlsx ", plain(HEADERS, t(org, "complaints-legal", 3))),
        Case("several_sheets", "customer-services-two-sheets.xlsx", several),
        Case("bidi_name", "policy-insight-\u202eslx.xlsx", plain(HEADERS, t(org, "policy-insight", 2))),
        Case("html_polyglot", "childrens-services-page.xlsx", b"<html><body>Evidence</body></html>\n" + wb),
        Case("junk_prefix", "childrens-services-prefixed.xlsx", b"JUNK" * 8 + wb),
        Case(
            "embedded_ole",
            "communications-embedded.xlsx",
            hostile.rezip(
                plain(HEADERS, comm), extra={"xl/embeddings/oleObject1.bin": hostile.cfb({"\x01Ole10Native": b"run.bat"})}
            ),
        ),
        Case("link_invisible", "waste-environment-link.csv", csv_of(HEADERS, link_rows)),
        Case("no_extension", "people-od-evidence-return", good_people),
        Case("formatted_to_the_end", "libraries-culture-formatted.xlsx", huge),
        Case("normalised", "housing-normalised.xlsx", plain(HEADERS, norm_rows)),
        Case("unidentified", "evidence-return.xlsx", plain(HEADERS, t(org, "housing", 2))),
        Case("ods_error_cells", "digital-errors.ods", ods_of(HEADERS, ods_rows)),
        Case("csv_short_rows", "communications-short.csv", short_csv),
        Case("csv_control_sent_back", "people-od-control.csv", csv_of(HEADERS, ctrl_rows)),
        Case("csv_value_on_lines", "childrens-services-lines.csv", csv_of(HEADERS, multi_rows)),
        Case(
            "html_in_cells",
            "adult-social-care-html.xlsx",
            plain([*HEADERS, "<b onmouseover=alert(2)>Extra</b>"], [[*r, "x"] for r in html_rows]),
        ),
    ]


def _old_evidence_sheet(wb) -> None:  # type: ignore[no-untyped-def]
    ws = wb.create_sheet("Evidence (old copy)")
    for c, h in enumerate(HEADERS, 1):
        ws.cell(row=1, column=c).value = h
    ws.cell(row=2, column=1).value = "1.1.1"


def build(org: Organisation, inbox: Path) -> dict[str, Path]:
    """Write every case into ``inbox``, oldest first."""
    import os

    inbox.mkdir(parents=True, exist_ok=True)
    written = {}
    stamp = 1_790_000_000
    for i, case in enumerate(cases(org)):
        path = inbox / str(case.name)
        path.write_bytes(case.content or b"")
        os.utime(path, (stamp + i, stamp + i))
        written[case.case] = path
    return written


def expected() -> list[dict[str, str]]:
    with (HERE / "expected.csv").open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def main() -> None:
    import tempfile

    from reaccreditation.demo import generate
    from reaccreditation.organisation.config import load_organisation

    inbox = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp()) / "inbox"
    paths = generate(Path(tempfile.mkdtemp()) / "demo", FIRST_DAY)
    org = load_organisation(paths["config"], today=RUN_DAY)
    print(f"{len(build(org, inbox))} messy cases: inbox {inbox}")


if __name__ == "__main__":
    main()
