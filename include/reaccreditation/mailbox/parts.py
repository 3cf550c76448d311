"""Which attached files are evidence workbooks, and what is inside an attached zip.

Workbook-like files (by extension or spreadsheet content type: ``.xlsx``, ``.ods``, ``.xlsm``, ``.xls``, ``.csv``)
go to intake, which refuses macros, old formats and encrypted files with its own specific messages.
A ``.zip`` is opened here, within limits (members, sizes, expansion ratio), and its workbooks are taken
out; anything else is recorded as "not evidence" and named in the answer when no workbook came.
"""

from __future__ import annotations

import io
import mimetypes
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

from reaccreditation.mailbox.message import Part

WORKBOOK_SUFFIXES = (".xlsx", ".ods", ".xlsm", ".xls", ".csv")
SPREADSHEET_TYPES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.ms-excel.sheet.macroenabled.12": ".xlsm",
    "application/vnd.ms-excel": ".xls",
    "application/vnd.oasis.opendocument.spreadsheet": ".ods",  # LibreOffice's own format
    "text/csv": ".csv",
}
ZIP_TYPES = {"application/zip", "application/x-zip-compressed", "application/x-zip"}
MAX_ZIP_BYTES = 25 * 1024 * 1024
MAX_ZIP_MEMBERS = 50
MAX_MEMBER_BYTES = 20 * 1024 * 1024
MAX_ZIP_TOTAL = 100 * 1024 * 1024
MAX_RATIO = 200


@dataclass
class Sorted:
    """The attachments of one message, sorted by what happens to them."""

    workbooks: list[Part]
    other: list[Part]  # kept in the archived .eml, not read
    refused: list[tuple[Part, str]]  # zips we would not open, with why


def kind(part: Part) -> str:
    suffix = PurePosixPath(part.filename.lower()).suffix
    if suffix == ".zip" or (part.content_type in ZIP_TYPES and suffix not in WORKBOOK_SUFFIXES):
        return "zip"
    if suffix in WORKBOOK_SUFFIXES:
        return "workbook"
    if part.content_type.lower() in SPREADSHEET_TYPES and suffix in ("", ".bin", ".dat"):
        return "workbook"
    return "other"


def workbook_name(part: Part) -> str:
    """A workbook without a usable extension gets the one its content type says."""
    if PurePosixPath(part.filename.lower()).suffix in WORKBOOK_SUFFIXES:
        return part.filename
    return PurePosixPath(part.filename).stem + SPREADSHEET_TYPES.get(
        part.content_type.lower(), mimetypes.guess_extension(part.content_type) or ""
    )


def sort_parts(parts: list[Part]) -> Sorted:
    out = Sorted([], [], [])
    for part in parts:
        k = kind(part)
        if k == "workbook":
            out.workbooks.append(Part(workbook_name(part), part.content_type, part.data, part.container))
        elif k == "zip":
            try:
                found, other = unzip(part)
            except ValueError as exc:
                out.refused.append((part, str(exc)))
                continue
            out.workbooks += found
            out.other += other
            if not found:
                out.refused.append((part, "it contains no workbook (.xlsx, .ods or .csv)"))
        else:
            out.other.append(part)
    return out


def unzip(part: Part) -> tuple[list[Part], list[Part]]:
    """Workbooks and other files inside a zip attachment; ValueError (with the reason) when refused."""
    if len(part.data) > MAX_ZIP_BYTES:
        raise ValueError(f"the zip file is larger than {MAX_ZIP_BYTES // (1024 * 1024)} MB")
    try:
        archive = zipfile.ZipFile(io.BytesIO(part.data))
        infos = [i for i in archive.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ValueError(f"the zip file cannot be opened ({exc})") from exc
    if any(i.flag_bits & 0x1 for i in infos):
        raise ValueError("the zip file is password-protected; attach the workbook itself")
    if len(infos) > MAX_ZIP_MEMBERS:
        raise ValueError(f"the zip file holds {len(infos)} files (at most {MAX_ZIP_MEMBERS})")
    if sum(i.file_size for i in infos) > MAX_ZIP_TOTAL:
        raise ValueError("the zip file expands to more than 100 MB")
    found: list[Part] = []
    other: list[Part] = []
    container = f"zip: {part.filename}"
    for info in infos:
        name = PurePosixPath(info.filename.replace("\\", "/")).name
        if not name or name.startswith(".") or "__MACOSX" in info.filename:
            continue
        if info.file_size > MAX_MEMBER_BYTES or (info.compress_size and info.file_size / info.compress_size > MAX_RATIO):
            raise ValueError(f"{name} inside the zip file is too large or compressed suspiciously well")
        try:
            data = archive.read(info)
        except (zipfile.BadZipFile, OSError, RuntimeError, ValueError) as exc:
            raise ValueError(f"{name} inside the zip file cannot be read ({exc})") from exc
        member = Part(name, mimetypes.guess_type(name)[0] or "application/octet-stream", data, container)
        (found if kind(member) == "workbook" else other).append(member)
    return found, other
