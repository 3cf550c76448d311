"""Is a document safe to keep and to hand to the assessor? Decided from its bytes before anything opens it.

Checks, in order: size, an extension we take, the real type by magic bytes against that extension, then
what makes a document dangerous or unreadable to the assessor: an Office file with macros (``vbaProject``,
a macro-enabled content type), an encrypted Office file (an OLE container where a zip package belongs), a
PDF that runs JavaScript or launches programs, an encrypted PDF. Each refusal is a sentence the sender
can act on. Nothing here parses the document beyond its package listing and the PDF's raw bytes.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import PurePosixPath

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
MAX_PACKAGE_MEMBERS = 2000
MAX_PACKAGE_TOTAL = 200 * 1024 * 1024

OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP = b"PK\x03\x04"
# extension -> what its first bytes must be
MAGIC: dict[str, tuple[bytes, ...]] = {
    ".pdf": (b"%PDF-",),
    ".docx": (ZIP,),
    ".pptx": (ZIP,),
    ".xlsx": (ZIP,),
    ".odt": (ZIP,),
    ".odp": (ZIP,),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".txt": (),
}
OFFICE = {".docx", ".pptx", ".xlsx", ".odt", ".odp"}
MACRO_SUFFIXES = {".docm", ".dotm", ".xlsm", ".pptm", ".potm", ".ppsm"}
OLD_OFFICE = {".doc", ".xls", ".ppt"}
# a PDF that acts when opened: scripts, launching programs, embedded files, forms that submit
PDF_ACTIVE = re.compile(rb"/(JavaScript|JS|Launch|EmbeddedFile|SubmitForm|ImportData|RichMedia)\b")
PDF_ENCRYPT = re.compile(rb"/Encrypt\b")
ACCEPTED = ", ".join(sorted(MAGIC))


class RefusedDocument(ValueError):
    """The document is not kept; the message says why and what to send instead."""


def suffix(name: str) -> str:
    return PurePosixPath(name.lower()).suffix


def check(name: str, data: bytes) -> str:
    """The document's content type when it may be kept; raises RefusedDocument with the reason."""
    ext = suffix(name)
    if not data:
        raise RefusedDocument("the file is empty")
    if len(data) > MAX_DOCUMENT_BYTES:
        raise RefusedDocument(
            f"the file is {len(data) / 1024 / 1024:.1f} MB; documents may be at most {MAX_DOCUMENT_BYTES // 1024 // 1024} MB "
            "(send a smaller copy, or a link to where it is published)"
        )
    if ext in MACRO_SUFFIXES:
        raise RefusedDocument(f"'{ext}' files contain macros, which we never open; save it as a PDF and send that")
    if ext in OLD_OFFICE:
        raise RefusedDocument(f"'{ext}' is an old Office format we do not open; save it as a PDF (or .docx/.pptx) and send that")
    if ext not in MAGIC:
        raise RefusedDocument(f"'{ext or 'no extension'}' files are not taken as evidence documents; send a PDF ({ACCEPTED})")
    if ext in OFFICE and data.startswith(OLE):
        raise RefusedDocument("the document is password-protected (encrypted); remove the password or send a PDF")
    magics = MAGIC[ext]
    if magics and not data.startswith(magics):
        raise RefusedDocument(
            f"the file is named '{ext}' but its content is not a {ext[1:].upper()} file; send the real document"
        )
    if ext == ".pdf":
        return _pdf(data)
    if ext in OFFICE:
        return _package(data, ext)
    if ext == ".txt":
        if b"\0" in data:
            raise RefusedDocument("the file is named '.txt' but it is not text; send the real document")
        return "text/plain"
    return "image/png" if ext == ".png" else "image/jpeg"


def _pdf(data: bytes) -> str:
    if PDF_ENCRYPT.search(data):
        raise RefusedDocument(
            "the PDF is encrypted or password-protected; the assessor could not open it: send an unprotected copy"
        )
    active = PDF_ACTIVE.search(data)
    if active:
        raise RefusedDocument(
            f"the PDF contains active content ({active.group(1).decode()}), which we never pass on; print it to a new PDF "
            "(File, Print, Save as PDF) and send that"
        )
    return "application/pdf"


def _package(data: bytes, ext: str) -> str:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise RefusedDocument(f"the {ext[1:].upper()} file is damaged and cannot be opened ({exc})") from exc
    if len(infos) > MAX_PACKAGE_MEMBERS or sum(i.file_size for i in infos) > MAX_PACKAGE_TOTAL:
        raise RefusedDocument("the document expands to far more than its size; send it as a PDF")
    if any(i.flag_bits & 0x1 for i in infos):
        raise RefusedDocument("the document is password-protected (encrypted); remove the password or send a PDF")
    names = {i.filename.lower() for i in infos}
    if any(n.endswith("vbaproject.bin") or n.startswith("basic/") for n in names):
        raise RefusedDocument("the document contains macros (it is a macro-enabled file renamed); save it as a PDF and send that")
    if "[content_types].xml" in names:
        types = archive.read("[Content_Types].xml")
        if b"macroEnabled" in types or b"vbaProject" in types:
            raise RefusedDocument(
                "the document contains macros (it is a macro-enabled file renamed); save it as a PDF and send that"
            )
        return {
            ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }.get(ext, "application/octet-stream")
    if "mimetype" in names:
        return archive.read("mimetype").decode("ascii", "replace").strip()[:100] or "application/octet-stream"
    raise RefusedDocument(f"the file is named '{ext}' but it is not an Office document; send the real document")
