"""Each kind of hostile or mislabelled document is refused with a reason a person can act on."""

from __future__ import annotations

import pytest

from reaccreditation.demo.documents import pdf
from reaccreditation.documents.matching import fold, named_files
from reaccreditation.documents.safety import MAX_DOCUMENT_BYTES, RefusedDocument, check

from .hostile import docm_renamed_docx, encrypted_pdf, pdf_with_javascript


def test_a_real_pdf_is_kept() -> None:
    assert check("Report.PDF", pdf("Customer insight 2026", "Survey of 1,200 residents")) == "application/pdf"


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("a.pdf", pdf_with_javascript(), "active content (JavaScript)"),
        ("a.pdf", encrypted_pdf(), "encrypted"),
        ("a.docx", docm_renamed_docx(), "contains macros"),
        ("a.docm", docm_renamed_docx(), "contain macros"),
        ("a.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "password-protected"),
        ("a.pdf", b"MZ\x90\x00 an executable", "not a PDF file"),
        ("a.exe", b"MZ", "'.exe' files are not taken"),
        ("a.doc", b"\xd0\xcf\x11\xe0", "old Office format"),
        ("a.pdf", b"", "empty"),
        ("a.pdf", b"%PDF-" + b"0" * MAX_DOCUMENT_BYTES, "at most 20 MB"),
        ("a.docx", b"PK\x03\x04 broken", "damaged"),
    ],
)
def test_refused_with_a_reason(name: str, data: bytes, reason: str) -> None:
    with pytest.raises(RefusedDocument, match=reason.replace("(", r"\(").replace(")", r"\)")):
        check(name, data)


def test_names_in_a_cell_fold_case_and_spacing() -> None:
    cell = "Customer Insight_2026.PDF; https://intranet.example.org/x.pdf\nminutes.docx, see the board paper"
    assert named_files(cell) == ["Customer Insight_2026.PDF", "minutes.docx"]
    assert fold("Customer Insight_2026.PDF") == fold("customer-insight-2026.pdf") == fold("docs/CustomerInsight 2026.pdf")
    assert named_files(None) == [] and named_files("Survey results") == []
