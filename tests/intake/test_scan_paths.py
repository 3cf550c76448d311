"""The sheet scan's shortcuts find what the general scan finds: a sheet written without namespace prefixes is
scanned with the unprefixed patterns, the same sheet with an ``x:`` prefix on every tag with the general ones;
and the heading search's cache of cell values keeps values of different types apart."""

from __future__ import annotations

import io
import re
import zipfile

import pytest

from reaccreditation.intake import reading, safety

SHEET = (
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:Z900"/><sheetData>'
    '<row r="1"><c r="A1" t="inlineStr"><is><t>Element</t></is></c><c r="B1" t="s"><v>0</v></c></row>'
    '<row r="2"><c r="A2" s="1"><v>46221</v></c><c r="C2" s="3"/><c r="D2"><v/></c><c r="E2"> <v></v> </c></row>'
    '<row r="7"><c r="B7" t="inlineStr"><is><t>{text}</t></is></c><c r="Z900" s="2"></c></row>'
    "{extra}</sheetData>{merges}</worksheet>"
)
EXTRAS = {
    "plain": "",
    "formula": '<row r="8"><c r="C8"><f>A2+1</f><v>46222</v></c><c r="D8"><f>B1&amp;"x"</f></c></row>',
    "error": '<row r="9"><c r="F9" t="e"><v>#REF!</v></c></row>',
}


def _scan(xml: str) -> safety.SheetInfo:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("xl/worksheets/sheet1.xml", xml)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as zf:
        return safety._scan_sheet(zf, "Evidence", "visible", "xl/worksheets/sheet1.xml")


def _prefixed(xml: str) -> str:
    xml = re.sub(r"<(/?)(?=[a-z])", r"<\1x:", xml)
    return xml.replace('xmlns="', 'xmlns:x="', 1)


@pytest.mark.parametrize("extra", sorted(EXTRAS))
@pytest.mark.parametrize("merges", ["", '<mergeCells><mergeCell ref="A2:A3"/></mergeCells>'])
@pytest.mark.parametrize("text", ["Evidence", "Note:cost"])  # ":c" in text: the general patterns, prefixes or not
def test_unprefixed_and_prefixed_sheets_scan_alike(extra: str, merges: str, text: str) -> None:
    xml = SHEET.format(text=text, extra=EXTRAS[extra], merges=merges)
    plain, prefixed = _scan(xml), _scan(_prefixed(xml))
    assert plain == prefixed
    assert (plain.rows, plain.cols) == {"plain": (7, 2), "formula": (8, 4), "error": (9, 6)}[extra]
    assert plain.declared == (900, 26)
    assert plain.merged == ([(2, 1, 3, 1)] if merges else [])
    if extra == "formula":
        assert plain.formulas == {(8, 3): ("=A2+1", True), (8, 4): ('=B1&"x"', False)}
    if extra == "error":
        assert plain.errors == {(9, 6): "#REF!"}


def test_the_heading_cache_keeps_types_apart() -> None:
    assert [reading._column(v)[1] for v in (1, 1.0, True, "1", 1.5)] == ["1", "1", "Yes", "1", "1.5"]
    assert reading._column(True)[1] == "Yes" and reading._column(1)[1] == "1"
    assert reading._column(" Element ")[0] is reading._column("Element")[0] is not None
    assert reading._column("")[0] is None and reading._column(None) == (None, None)
    long = "Element" + " " * 300
    assert reading._column(long)[0] is reading._column("Element")[0] and (str, long) not in reading._COLUMNS
