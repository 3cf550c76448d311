"""File safety: decide from the raw bytes whether a returned file may be given to a parser at all.

Nothing here uses a spreadsheet library. python-calamine aborts the whole Python process (no exception)
when a sheet declares a huge used range, openpyxl silently reads Strict OOXML as zero sheets, and both
open macro packages renamed ``.xlsx``. So we look inside the zip ourselves: member count and sizes
(zip-bomb guard), content types (macros), the workbook namespace (Strict), every sheet's declared
``<dimension>`` and the furthest row/column actually present, merged ranges, external links and hidden
sheets. A rejection carries a message a department can act on.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
import zlib
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

_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"([A-Z]+\d+(?::[A-Z]+\d+)?)\"")
_ROW = re.compile(rb"<(?:\w+:)?row\b[^>]*?\sr=\"(\d+)\"")
_CELL = re.compile(rb"<(?:\w+:)?c\b[^>]*?\sr=\"([A-Z]+)(\d+)\"")
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


@dataclass
class SafetyReport:
    """What the package check found; ``kind`` is ``xlsx`` or ``csv``."""

    kind: str
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


def check_file(name: str, data: bytes) -> SafetyReport:
    """Accept or refuse ``data`` (named ``name``) by its bytes alone; raises :class:`UnsafeFile`."""
    suffix = PurePath(name).suffix.lower()
    if not data:
        raise UnsafeFile("the file is empty (0 bytes)")
    if len(data) > MAX_FILE_BYTES:
        raise UnsafeFile(f"the file is {len(data) / 1e6:.1f} MB; the limit is {MAX_FILE_BYTES // 1_000_000} MB")
    if data.startswith(OLE_MAGIC):
        if (
            "EncryptionInfo".encode("utf-16-le") in data
            or b"EncryptedPackage" in data
            or "EncryptedPackage".encode("utf-16-le") in data
        ):
            raise UnsafeFile(
                "the workbook is password-protected: remove the password (File > Info > Protect Workbook) and send it again as .xlsx"
            )
        raise UnsafeFile("this is an old-format Excel file (.xls): open it and use Save As > Excel Workbook (.xlsx)")
    if suffix == ".csv":
        return _check_csv(data)
    if suffix not in (".xlsx", ".xlsm", ".xls", ""):
        raise UnsafeFile(
            f"'{suffix}' files are not accepted: send the evidence workbook as .xlsx (or a .csv export of the Evidence sheet)"
        )
    if not zipfile.is_zipfile(io.BytesIO(data)):
        if suffix == ".xls":
            raise UnsafeFile("this is not an Excel workbook we can read: use Save As > Excel Workbook (.xlsx)")
        raise UnsafeFile(
            "the file is not a valid .xlsx workbook (it may be damaged or only partly saved): save it again as Excel Workbook (.xlsx)"
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return _check_package(zf)
    except UnsafeFile:
        raise
    except (zipfile.BadZipFile, zlib.error, ElementTree.ParseError, KeyError, ValueError, EOFError, OSError, RuntimeError) as exc:
        what = "corrupt compressed data" if isinstance(exc, zlib.error) else type(exc).__name__
        raise UnsafeFile(f"the workbook is damaged and cannot be read ({what}): save it again as Excel Workbook (.xlsx)") from exc


def _check_csv(data: bytes) -> SafetyReport:
    report = SafetyReport(kind="csv")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or (
        b"\x00" in data[:4096] and data[:4096].count(b"\x00") > len(data[:4096]) // 4
    ):
        raise UnsafeFile("the .csv file contains binary data (perhaps UTF-16): save it as 'CSV UTF-8 (Comma delimited)'")
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise UnsafeFile(
            f"the .csv file contains NUL bytes (binary data), first on line {line}: open it in Excel and save it again as 'CSV UTF-8 (Comma delimited)'"
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


def _check_package(zf: zipfile.ZipFile) -> SafetyReport:
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise UnsafeFile(f"the workbook package has {len(infos)} parts; the limit is {MAX_MEMBERS}")
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise UnsafeFile("the workbook is encrypted: remove the password and send it again")
        total += info.file_size
        if info.file_size > 1_000_000 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise UnsafeFile(
                f"the workbook part {info.filename} expands {info.file_size // max(info.compress_size, 1)}-fold: refused as a possible zip bomb"
            )
    if total > MAX_UNCOMPRESSED_BYTES:
        raise UnsafeFile(f"the workbook expands to {total / 1e6:.0f} MB; the limit is {MAX_UNCOMPRESSED_BYTES // 1_000_000} MB")
    names = {i.filename for i in infos}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise UnsafeFile("the file is a zip archive but not an Excel workbook: send the evidence workbook as .xlsx")
    content_types = zf.read("[Content_Types].xml").decode("utf-8", "replace")
    if any(n.lower().endswith("vbaproject.bin") for n in names) or any(t in content_types for t in MACRO_TYPES):
        raise UnsafeFile(
            "the workbook contains macros, which we do not accept: use Save As > Excel Workbook (.xlsx), not a macro-enabled workbook"
        )
    workbook_xml = zf.read("xl/workbook.xml")
    if STRICT_NS.encode() in workbook_xml[:4096]:
        raise UnsafeFile("the workbook is saved as 'Strict Open XML Spreadsheet': use Save As > Excel Workbook (.xlsx)")
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
                f"sheet '{name}' declares {info.rows} rows x {info.cols} columns; the limit is {MAX_ROWS} x {MAX_COLS}: "
                "delete the unused rows and columns (or copy the data into a fresh workbook)"
            )
        if state == "hidden":
            report.notes.append(f"sheet '{name}' is hidden; it was not read")
        report.sheets.append(info)
    if not report.sheets:
        raise UnsafeFile("the workbook has no sheets")
    return report


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
    """Stream the sheet XML once: declared dimension, furthest row and column present, merged ranges."""
    declared_rows = declared_cols = max_row = max_col = 0
    merged: list[tuple[int, int, int, int]] = []
    tail = b""
    first = True
    with zf.open(path) as f:
        while chunk := f.read(1 << 20):
            buf = tail + chunk
            if first:
                m = _DIMENSION.search(buf[:8192])
                if m:
                    last = m.group(1).decode().split(":")[-1]
                    declared_rows, declared_cols = _cell(last)
                first = False
            for m in _ROW.finditer(buf):
                max_row = max(max_row, int(m.group(1)))
            for m in _CELL.finditer(buf):
                max_col = max(max_col, column_number(m.group(1).decode()))
                max_row = max(max_row, int(m.group(2)))
            for m in _MERGE.finditer(buf):
                a, b = m.group(1).decode().split(":")
                (r1, c1), (r2, c2) = _cell(a), _cell(b)
                merged.append((r1, c1, r2, c2))
            tail = buf[-200:]  # a tag cut by the chunk boundary is seen whole next time
    merged = sorted(set(merged))
    max_row = max([max_row, *(m[2] for m in merged)])
    max_col = max([max_col, *(m[3] for m in merged)])
    return SheetInfo(name, state, max(declared_rows, max_row), max(declared_cols, max_col), merged)
