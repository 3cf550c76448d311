"""File safety: decide from the raw bytes whether a returned file may be given to a parser at all.

Nothing here uses a spreadsheet library. python-calamine aborts the whole Python process (no exception)
when a sheet declares a huge used range, openpyxl silently reads Strict OOXML as zero sheets, and both
open macro packages renamed ``.xlsx``. So we look inside the zip ourselves: member count and sizes
(zip-bomb guard), content types (macros), the workbook namespace (Strict), every sheet's declared
``<dimension>`` and the furthest row/column actually present, merged ranges, external links and hidden
sheets. LibreOffice's own format (``.ods``, OpenDocument) gets the same checks from its ``content.xml``
(repeated rows and columns counted, as a reader would expand them). A rejection carries a message a
department can act on, naming Excel's and LibreOffice's menus.
"""

from __future__ import annotations

import html
import io
import posixpath
import re
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import PurePath
from xml.etree import ElementTree

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_MEMBERS = 500
MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
MAX_RATIO = 200  # uncompressed / compressed per member beyond a few kB: a zip bomb
MAX_ROWS = 20_000
MAX_COLS = 60
CSV_MAX_ROWS = MAX_ROWS

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
STRICT_NS = "http://purl.oclc.org/ooxml/spreadsheetml/main"
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
MACRO_TYPES = ("macroEnabled", "vbaProject", "vnd.ms-office.vba")
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
ODF_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
ODF_STYLE = "urn:oasis:names:tc:opendocument:xmlns:style:1.0"
ODF_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
ODF_CALCEXT = "urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0"  # LibreOffice's cell value types
META_SHEET = "_meta"  # workbook.layout.META_SHEET: read for identification, so never "hidden, not read"

# How to save a good copy, in both spreadsheet programs departments use.
SAVE_XLSX = (
    "in Excel use File > Save As > Excel Workbook (.xlsx); in LibreOffice, File > Save As > ODF Spreadsheet (.ods) or Excel "
    "2007-365 (.xlsx)"
)

_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"([A-Z]+\d+(?::[A-Z]+\d+)?)\"")
_CELL = re.compile(rb"<(?:\w+:)?c\b([^>]*?\sr=\"([A-Z]+)(\d+)\"[^>]*?)(/?)>")
_EMPTY_CELL = re.compile(rb"\s*(?:<(?:\w+:)?v\s*/>|<(?:\w+:)?v>\s*</(?:\w+:)?v>)?\s*</(?:\w+:)?c>")
_ERROR_VALUE = re.compile(rb"<(?:\w+:)?v>([^<]{1,40})</")
_FORMULA = re.compile(rb"\A\s*<(?:\w+:)?f\b[^>]*?(?:/>|>([^<]{0,300}))")
_VALUE = re.compile(rb"<(?:\w+:)?v>[^<]")
_CELL_END = re.compile(rb"</(?:\w+:)?c>")
# A cell holding something (the rule of _CELL + _EMPTY_CELL in one pattern): its column letters and row number.
_USED_CELL = re.compile(
    rb"<(?:\w+:)?c\b[^>]*?\sr=\"([A-Z]+)(\d+)\"[^>]*?(?<!/)>"
    rb"(?!\s*(?:<(?:\w+:)?v\s*/>|<(?:\w+:)?v>\s*</(?:\w+:)?v>)?\s*</(?:\w+:)?c>)"
)
_ANY_FORMULA = re.compile(rb"<(?:\w+:)?f\b")
# Where a stretch holds no ":c", ":v" or ":f" (no namespace-prefixed cell, value or formula tag is possible), the
# optional prefix of _USED_CELL and _ANY_FORMULA can only match nothing: the same patterns without it, which the
# regex engine finds by their literal start. (The lazy run before the closing ">" is greedy here: "[^>]" stops
# at the first ">" either way.)
_PREFIXED = re.compile(rb":[cvf]")
_USED_CELL_PLAIN = re.compile(rb"<c\b[^>]*?\sr=\"([A-Z]+)(\d+)\"[^>]*(?<!/)>(?!\s*(?:<v\s*/>|<v>\s*</v>)?\s*</c>)")
_ANY_FORMULA_PLAIN = re.compile(rb"<f\b")
MAX_CELL_FINDINGS = 5000  # error and formula cells remembered per sheet (the rest are counted)
ZIP_SIGNATURE = b"PK\x03\x04"
EMBEDDED_PREFIXES = ("xl/embeddings/", "xl/activeX/")
_MERGE = re.compile(rb"<(?:\w+:)?mergeCell\s+ref=\"([A-Z]+\d+:[A-Z]+\d+)\"")
_REF = re.compile(r"([A-Z]+)(\d+)")


class UnsafeFile(ValueError):
    """The file is refused before parsing; ``str(exc)`` is the message for the department."""


@dataclass
class SheetInfo:
    name: str
    state: str  # visible | hidden | veryHidden
    rows: int
    cols: int
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # min_row, min_col, max_row, max_col
    declared: tuple[int, int] = (0, 0)  # the <dimension> the sheet states (rows, columns), often far beyond the content
    errors: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, column) -> "#VALUE!": readers give ""
    formulas: dict[tuple[int, int], tuple[str, bool]] = field(default_factory=dict)  # -> (formula, has a saved result)


@dataclass
class SafetyReport:
    """What the package check found; ``kind`` is ``xlsx`` or ``csv``."""

    kind: str  # xlsx | ods | csv
    sheets: list[SheetInfo] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    submitter: str | None = None
    encoding: str | None = None

    def sheet(self, name: str) -> SheetInfo | None:
        return next((s for s in self.sheets if s.name == name), None)


def column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _cell(ref: str) -> tuple[int, int]:
    m = _REF.fullmatch(ref)
    if not m:
        raise ValueError(ref)
    return int(m.group(2)), column_number(m.group(1))


# What a file is, from its first bytes, when it is not what its name says (checked before any zip test).
_MAGIC = (
    (b"%PDF-", "a PDF document"),
    (b"\x89PNG", "a PNG picture"),
    (b"\xff\xd8\xff", "a JPEG picture"),
    (b"GIF8", "a GIF picture"),
    (b"{\\rtf", "a Rich Text (RTF) document"),
)
_HTML = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*<(?:!doctype\s+html|html|head|body|!--|script|div|p\b)", re.IGNORECASE)
_ZIP_KINDS = (("word/document.xml", "a Word document"), ("ppt/presentation.xml", "a PowerPoint presentation"))
_DAMAGE = {
    "BadZipFile": "its compressed structure is broken",
    "zlib": "corrupt compressed data",
    "ParseError": "a part of it is not well-formed XML",
    "KeyError": "a part it needs is missing",
    "EOFError": "it ends too early",
}


def what_it_is(data: bytes) -> str | None:
    """A plain name for a file that is not a spreadsheet (PDF, picture, web page, Word), from its bytes."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    if _HTML.match(data[:1024]):
        return "a web page (HTML)"
    if data.startswith(ZIP_SIGNATURE):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                names = set(zf.namelist())
        except (zipfile.BadZipFile, ValueError, OSError, EOFError):
            return None
        return next((kind for part, kind in _ZIP_KINDS if part in names), None)
    return None


def check_file(name: str, data: bytes) -> SafetyReport:
    """Accept or refuse ``data`` (named ``name``) by its bytes alone; raises :class:`UnsafeFile`."""
    trimmed = name.rstrip(" .\t")
    suffix = PurePath(trimmed).suffix.lower()
    notes = []
    if trimmed != name and suffix:
        notes.append(f"the file name ends in a space or a dot; it was read as a {suffix} file")
    report = _check(suffix, data)
    if suffix == "":
        read_as = "an OpenDocument spreadsheet (.ods)" if report.kind == "ods" else "an Excel workbook (.xlsx)"
        notes.append(
            f"the file name has no extension; it was read as {read_as} "
            "because that is what it contains: keep the .xlsx (or .ods) ending when you save"
        )
    report.notes[:0] = notes
    return report


def _check(suffix: str, data: bytes) -> SafetyReport:
    if not data:
        raise UnsafeFile("the file is empty (0 bytes): nothing arrived; attach the evidence workbook again and send it")
    if len(data) > MAX_FILE_BYTES:
        raise UnsafeFile(f"the file is {len(data) / 1e6:.1f} MB; the limit is {MAX_FILE_BYTES // 1_000_000} MB")
    if data.startswith(OLE_MAGIC):
        if (
            "EncryptionInfo".encode("utf-16-le") in data
            or b"EncryptedPackage" in data
            or "EncryptedPackage".encode("utf-16-le") in data
        ):
            raise UnsafeFile(
                "the workbook is password-protected: remove the password (Excel: File > Info > Protect Workbook; "
                "LibreOffice: File > Save As without 'Save with password') and send it again"
            )
        raise UnsafeFile(f"this is an old-format Excel file (.xls): open it and save a new copy ({SAVE_XLSX})")
    if suffix == ".csv":
        return _check_csv(data)
    if suffix not in (".xlsx", ".xlsm", ".xls", ".ods", ""):
        raise UnsafeFile(
            f"'{suffix}' files are not accepted: send the evidence workbook as .xlsx or .ods (or a .csv export of the Evidence "
            "sheet)"
        )
    kind = what_it_is(data)
    if kind is not None:
        raise UnsafeFile(
            f"this file is {kind}, not a spreadsheet{f', although its name ends in {suffix}' if suffix else ''}: send the "
            "evidence workbook itself (.xlsx or .ods); a document you want to give as evidence goes as a separate attachment, "
            "named in the 'Link or file name' column"
        )
    if not zipfile.is_zipfile(io.BytesIO(data)):
        if suffix == ".xls":
            raise UnsafeFile(f"this is not an Excel workbook we can read: save a new copy ({SAVE_XLSX})")
        if suffix == "":
            raise UnsafeFile(
                "the file name has no extension and the file is not a spreadsheet we can read: send the evidence workbook "
                "as .xlsx or .ods (or a .csv export of the Evidence sheet)"
            )
        raise UnsafeFile(
            f"the file is not a valid {suffix} workbook (it may be damaged or only partly saved): save it again ({SAVE_XLSX})"
        )
    if not data.startswith(ZIP_SIGNATURE):
        raise UnsafeFile(
            "the file does not begin the way a workbook does: something else was put in front of the workbook data, which is "
            f"how harmful files are disguised, so it was not opened: save the workbook again ({SAVE_XLSX}) and send that copy"
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            if "mimetype" in zf.namelist() and "xl/workbook.xml" not in zf.namelist():
                return _check_ods(zf)
            return _check_package(zf)
    except UnsafeFile:
        raise
    except (zipfile.BadZipFile, zlib.error, ElementTree.ParseError, KeyError, ValueError, EOFError, OSError, RuntimeError) as exc:
        what = _DAMAGE.get("zlib" if isinstance(exc, zlib.error) else type(exc).__name__, "its internal structure is broken")
        raise UnsafeFile(f"the workbook is damaged and cannot be read ({what}): save it again ({SAVE_XLSX})") from exc


def _check_csv(data: bytes) -> SafetyReport:
    report = SafetyReport(kind="csv")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or (
        b"\x00" in data[:4096] and data[:4096].count(b"\x00") > len(data[:4096]) // 4
    ):
        raise UnsafeFile("the .csv file contains binary data (perhaps UTF-16): save it as 'CSV UTF-8 (Comma delimited)'")
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise UnsafeFile(
            f"the .csv file contains NUL bytes (binary data), first on line {line}: open it in Excel and save it again as 'CSV "
            "UTF-8 (Comma delimited)'"
        )
    try:
        data.decode("utf-8-sig")
        report.encoding = "utf-8-sig"
    except UnicodeDecodeError:
        # Excel's plain "CSV (Comma delimited)" on Windows writes cp1252; read it so rather than refuse.
        report.encoding = "cp1252"
        report.notes.append("the .csv file was not UTF-8; it was read as Windows-1252 (check any accented letters)")
    lines = data.count(b"\n")
    if lines > CSV_MAX_ROWS:
        raise UnsafeFile(f"the .csv file has {lines} lines; the limit is {CSV_MAX_ROWS}")
    return report


def _check_members(zf: zipfile.ZipFile) -> None:
    """Zip-bomb and encryption guards shared by .xlsx and .ods packages."""
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise UnsafeFile(f"the workbook package has {len(infos)} parts; the limit is {MAX_MEMBERS}")
    counts = Counter(i.filename for i in infos)
    twice = sorted(n for n, k in counts.items() if k > 1)
    if twice:
        raise UnsafeFile(
            f"the workbook package holds {counts[twice[0]]} copies of its part '{twice[0]}', so we cannot tell which one is "
            "your data (Excel and LibreOffice never save a file like this): open it and save it again "
            f"({SAVE_XLSX})"
        )
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise UnsafeFile("the workbook is encrypted: remove the password and send it again")
        total += info.file_size
        if info.file_size > 1_000_000 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise UnsafeFile(
                f"the workbook part {info.filename} expands {info.file_size // max(info.compress_size, 1)}-fold: refused as a "
                "possible zip bomb"
            )
    if total > MAX_UNCOMPRESSED_BYTES:
        raise UnsafeFile(f"the workbook expands to {total / 1e6:.0f} MB; the limit is {MAX_UNCOMPRESSED_BYTES // 1_000_000} MB")


def _check_package(zf: zipfile.ZipFile) -> SafetyReport:
    _check_members(zf)
    names = {i.filename for i in zf.infolist()}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise UnsafeFile("the file is a zip archive but not a spreadsheet: send the evidence workbook itself (.xlsx or .ods)")
    content_types = zf.read("[Content_Types].xml").decode("utf-8", "replace")
    if any(n.lower().endswith("vbaproject.bin") for n in names) or any(t in content_types for t in MACRO_TYPES):
        raise UnsafeFile(
            f"the workbook contains macros, which we do not accept: save a copy without them ({SAVE_XLSX}), not a macro-enabled "
            "workbook"
        )
    embedded = sorted(n for n in names if n.startswith(EMBEDDED_PREFIXES) and not n.endswith("/"))
    if embedded or "oleObject" in content_types:
        raise UnsafeFile(
            f"the workbook has a file or object embedded in it ({embedded[0] if embedded else 'an OLE object'}), which we do "
            "not accept because it could hide a program: delete the object from the sheet (click it, press Delete), save, "
            "and send the workbook again; send a document you want to give as evidence as a separate attachment"
        )
    workbook_xml = zf.read("xl/workbook.xml")
    if STRICT_NS.encode() in workbook_xml[:4096]:
        raise UnsafeFile(f"the workbook is saved as 'Strict Open XML Spreadsheet': save a new copy ({SAVE_XLSX})")
    report = SafetyReport(kind="xlsx")
    if any(n.startswith("xl/externalLinks/") for n in names):
        report.notes.append("the workbook links to other files (external links); linked values were not refreshed")
    report.submitter = _submitter(zf, names)
    root = ElementTree.fromstring(workbook_xml)
    rels = _relationships(zf, "xl/_rels/workbook.xml.rels")
    for sheet in root.iter(f"{{{MAIN_NS}}}sheet"):
        name = sheet.get("name", "")
        state = sheet.get("state", "visible")
        target = rels.get(sheet.get(f"{{{DOC_REL_NS}}}id", ""), "")
        path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
        info = _scan_sheet(zf, name, state, path) if path in names else SheetInfo(name, state, 0, 0)
        if info.rows > MAX_ROWS or info.cols > MAX_COLS:
            raise UnsafeFile(
                f"sheet '{name}' has content up to row {info.rows}, column {info.cols}; the limit is {MAX_ROWS} rows x "
                f"{MAX_COLS} columns: delete the unused rows and columns (or copy the data into a fresh workbook)"
            )
        if info.declared[0] > MAX_ROWS or info.declared[1] > MAX_COLS:
            report.notes.append(
                f"sheet '{name}' is formatted to row {info.declared[0]}, column {info.declared[1]}, but holds content only up "
                f"to row {info.rows}, column {info.cols}; it was read up to there"
            )
        _hidden_note(report, name, state)
        report.sheets.append(info)
    if not report.sheets:
        raise UnsafeFile("the workbook has no sheets")
    return report


def _hidden_note(report: SafetyReport, name: str, state: str) -> None:
    """A hidden sheet is not read: say so, except for ``_meta``, which is read (LibreOffice saves our very
    hidden ``_meta`` as merely hidden, and ODS has no very hidden)."""
    if state != "visible" and name != META_SHEET and (state == "hidden" or report.kind == "ods"):
        report.notes.append(f"sheet '{name}' is hidden; it was not read")


def _check_ods(zf: zipfile.ZipFile) -> SafetyReport:
    """An OpenDocument spreadsheet (LibreOffice's own format): the same guards, from its XML."""
    _check_members(zf)
    names = set(zf.namelist())
    if zf.read("mimetype")[:100].strip() != ODS_MIMETYPE or "content.xml" not in names:
        raise UnsafeFile("the file is an OpenDocument file but not a spreadsheet: send the evidence workbook (.ods or .xlsx)")
    manifest = zf.read("META-INF/manifest.xml")[:1_000_000] if "META-INF/manifest.xml" in names else b""
    if b"encryption-data" in manifest:
        raise UnsafeFile(
            "the workbook is password-protected: in LibreOffice use File > Save As and untick 'Save with password', then send it "
            "again"
        )
    embedded = sorted(n for n in names if n.startswith(("Object ", "ObjectReplacements/")))
    if embedded:
        raise UnsafeFile(
            f"the workbook has a file or object embedded in it ({embedded[0].split('/')[0]}), which we do not accept "
            "because it could hide a program: delete the object from the sheet, save, and send the workbook again; send a "
            "document you want to give as evidence as a separate attachment"
        )
    if any(n.startswith(("Basic/", "Scripts/")) and not n.endswith("/") for n in names):
        raise UnsafeFile(f"the workbook contains macros, which we do not accept: save a copy without them ({SAVE_XLSX})")
    report = SafetyReport(kind="ods")
    report.submitter = _ods_submitter(zf, names)
    for info in _scan_ods(zf):
        if info.rows > MAX_ROWS or info.cols > MAX_COLS:
            raise UnsafeFile(
                f"sheet '{info.name}' has content up to row {info.rows}, column {info.cols}; the limit is {MAX_ROWS} x "
                f"{MAX_COLS}: "
                "delete the unused rows and columns (or copy the data into a fresh workbook)"
            )
        _hidden_note(report, info.name, info.state)
        report.sheets.append(info)
    if not report.sheets:
        raise UnsafeFile("the workbook has no sheets")
    return report


def _ods_submitter(zf: zipfile.ZipFile, names: set[str]) -> str | None:
    if "meta.xml" not in names:
        return None
    text = zf.read("meta.xml")[:20_000].decode("utf-8", "replace")
    for tag in ("dc:creator", "meta:initial-creator"):
        m = re.search(rf"<{tag}>([^<]{{1,200}})</", text)
        if m and m.group(1).strip():
            return " ".join(m.group(1).split())
    return None


def _scan_ods(zf: zipfile.ZipFile) -> list[SheetInfo]:
    """Stream content.xml: each table's name, whether its style hides it, and the furthest row and column
    that hold anything, counting ``number-rows-repeated``/``number-columns-repeated`` as a reader expands them
    (trailing empty repeats, which LibreOffice writes to the sheet's end, hold nothing and are not counted)."""
    t, st = f"{{{ODF_TABLE}}}", f"{{{ODF_STYLE}}}"
    hidden_styles: set[str] = set()
    sheets: list[SheetInfo] = []
    row = max_row = max_col = 0
    current: SheetInfo | None = None
    with zf.open("content.xml") as f:
        for event, el in ElementTree.iterparse(f, events=("start", "end")):
            tag = el.tag
            if event == "start" and tag == f"{t}table":
                style = el.get(f"{t}style-name", "")
                current = SheetInfo(el.get(f"{t}name", ""), "hidden" if style in hidden_styles else "visible", 0, 0)
                row = max_row = max_col = 0
            elif event != "end":
                continue
            elif tag == f"{st}table-properties" and el.get(f"{t}display") == "false":
                hidden_styles.add("?")  # resolved at the enclosing style:style below
            elif tag == f"{st}style":
                if "?" in hidden_styles:
                    hidden_styles.discard("?")
                    hidden_styles.add(el.get(f"{st}name", ""))
                el.clear()
            elif tag == f"{t}table-row" and current is not None:
                repeat = min(int(el.get(f"{t}number-rows-repeated", "1")), 10**7)
                col = used = 0
                for cell in el:
                    span = min(int(cell.get(f"{t}number-columns-repeated", "1")), 10**6)
                    _ods_findings(current, cell, row + 1, col + 1, repeat, span)
                    col += span
                    if len(cell) or any(k.endswith("value-type") for k in cell.attrib):
                        used = col
                if used:
                    max_row, max_col = row + repeat, max(max_col, used)
                row += repeat
                el.clear()
            elif tag == f"{t}table" and current is not None:
                current.rows, current.cols = max_row, max_col
                sheets.append(current)
                current = None
                el.clear()
    return sheets


def _ods_findings(info: SheetInfo, cell: ElementTree.Element, row: int, col: int, rows: int, cols: int) -> None:
    """An .ods cell showing an error (calamine reads it as empty) or holding a formula, as for .xlsx sheets."""
    formula = cell.get(f"{{{ODF_TABLE}}}formula")
    error = cell.get(f"{{{ODF_CALCEXT}}}value-type") == "error"
    if formula is None and not error:
        return
    shown = "".join(cell.itertext()).strip()
    has_result = bool(shown) or any(k.startswith(f"{{{ODF_OFFICE}}}") and k.endswith("value") for k in cell.attrib)
    for r in range(row, row + min(rows, 100)):
        for c in range(col, col + min(cols, 100)):
            if len(info.errors) + len(info.formulas) >= MAX_CELL_FINDINGS:
                return
            if error:
                info.errors[(r, c)] = shown or "#ERROR"
            else:  # "of:=A1+1" -> "=A1+1"
                info.formulas[(r, c)] = ("=" + (formula or "").split(":", 1)[-1].lstrip("="), has_result)


def _relationships(zf: zipfile.ZipFile, path: str) -> dict[str, str]:
    try:
        root = ElementTree.fromstring(zf.read(path))
    except KeyError:
        return {}
    return {r.get("Id", ""): r.get("Target", "") for r in root.iter(f"{{{REL_NS}}}Relationship")}


def _submitter(zf: zipfile.ZipFile, names: set[str]) -> str | None:
    if "docProps/core.xml" not in names:
        return None
    text = zf.read("docProps/core.xml")[:20_000].decode("utf-8", "replace")
    for tag in ("lastModifiedBy", "creator"):
        m = re.search(rf"<(?:\w+:)?{tag}>([^<]{{1,200}})</", text)
        if m and m.group(1).strip():
            return " ".join(m.group(1).split())
    return None


def _scan_sheet(zf: zipfile.ZipFile, name: str, state: str, path: str) -> SheetInfo:
    """Stream the sheet XML once: declared dimension, the real used range, merged ranges, error and formula cells.

    The real used range is the furthest cell holding something (a value, inline text or a formula): a sheet
    formatted down to row 1,048,576 with five rows typed is five rows, as python-calamine reads it (it skips
    cells without a value). A cell whose end is cut by the chunk boundary counts as used (never too small).
    """
    declared_rows = declared_cols = max_row = max_col = 0
    merged: list[tuple[int, int, int, int]] = []
    errors: dict[tuple[int, int], str] = {}
    formulas: dict[tuple[int, int], tuple[str, bool]] = {}
    tail = b""
    first = True
    columns: dict[bytes, int] = {}
    with zf.open(path) as f:
        while chunk := f.read(1 << 20):
            buf = tail + chunk
            if first:
                m = _DIMENSION.search(buf[:8192])
                if m:
                    last = m.group(1).decode().split(":")[-1]
                    declared_rows, declared_cols = _cell(last)
                first = False
            # Without an error cell or a formula in this stretch, a cell can only move the used range: the used
            # cells' references come from one pattern (no Python per cell, most sheets); else each cell is looked at.
            prefixed = _PREFIXED.search(buf) is not None
            any_formula, used_cell = (_ANY_FORMULA, _USED_CELL) if prefixed else (_ANY_FORMULA_PLAIN, _USED_CELL_PLAIN)
            if b' t="e"' not in buf and any_formula.search(buf) is None:
                used = used_cell.findall(buf)
                if used:
                    max_row = max(max_row, max(map(int, {number for _, number in used})))
                    for letters in {letters for letters, _ in used}:
                        col = columns.get(letters) or columns.setdefault(letters, column_number(letters.decode()))
                        max_col = max(max_col, col)
            else:
                for m in _CELL.finditer(buf):
                    row, letters = int(m.group(3)), m.group(2)
                    col = columns.get(letters) or columns.setdefault(letters, column_number(letters.decode()))
                    if m.group(4) or _EMPTY_CELL.match(buf, m.end()):
                        continue  # <c r="X9" s="3"/>: formatting only
                    max_row, max_col = max(max_row, row), max(max_col, col)
                    end = _CELL_END.search(buf, m.end(), m.end() + 4096)
                    if end is None or len(errors) + len(formulas) >= MAX_CELL_FINDINGS:
                        continue
                    body = buf[m.end() : end.start()]
                    if b' t="e"' in m.group(1):
                        v = _ERROR_VALUE.search(body)
                        errors[(row, col)] = v.group(1).decode("utf-8", "replace") if v else "#ERROR"
                    elif formula := _FORMULA.match(body):
                        has_result = _VALUE.search(body) is not None
                        formulas[(row, col)] = (
                            "=" + html.unescape((formula.group(1) or b"").decode("utf-8", "replace")),
                            has_result,
                        )
            for m in _MERGE.finditer(buf) if b"mergeCell" in buf else ():
                a, b = m.group(1).decode().split(":")
                (r1, c1), (r2, c2) = _cell(a), _cell(b)
                merged.append((r1, c1, r2, c2))
            tail = buf[-4096:]  # a tag cut by the chunk boundary is seen whole next time
    info = SheetInfo(name, state, max_row, max_col, sorted(set(merged)), (declared_rows, declared_cols), errors, formulas)
    return info
