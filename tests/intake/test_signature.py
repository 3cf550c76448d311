"""Signed request workbooks: intake trusts a workbook's hidden request details only under our signature.

Attacks: the signature removed (an unsigned ``_meta``), the department edited (another department's
evidence), the signature recomputed with a guessed key. A department's own copy always verifies
(its LibreOffice round trip is ``tests/requests/test_workbook.py``).
"""

from __future__ import annotations

import io
from datetime import date

import pytest

from reaccreditation.workbook import layout, signature

TODAY = date(2027, 1, 20)


def _edit_meta(data: bytes, change) -> bytes:  # type: ignore[no-untyped-def]
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data))
    ws = wb[layout.META_SHEET]
    meta = {str(r[0].value): r[1] for r in ws.iter_rows(min_row=1, max_col=2) if r[0].value}
    change(meta)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _filled(org, dept_id: str) -> bytes:  # type: ignore[no-untyped-def]
    import random

    from reaccreditation.demo.returns import fill, good_rows
    from reaccreditation.requests.workbook import RequestWorkbook

    dept = org.department(dept_id)
    return fill(RequestWorkbook(org, dept).to_bytes(), good_rows(org, dept, random.Random(1), partial_share=0.0))


def _sweep(org, project_db, tmp_path, files: dict[str, bytes], key: bytes = signature.DEMO_KEY):  # type: ignore[no-untyped-def]
    from reaccreditation.db import make_engine
    from reaccreditation.intake.gx_validation import Validator
    from reaccreditation.intake.pipeline import Sweep, inbox_files
    from reaccreditation.settings import Paths

    paths = Paths(tmp_path / "data")
    paths.inbox.mkdir(parents=True)
    for name, data in files.items():
        (paths.inbox / name).write_bytes(data)
    sweep = Sweep(org, make_engine(project_db), paths, Validator, today=TODAY, run_id="seal", signing_key=key)
    return {o.original_name: o for o in sweep.run(inbox_files(paths.inbox))}


def test_the_signature_covers_organisation_department_year_and_reference():
    meta = {"organisation": "Kestrel Vale", "department_id": "housing", "assessment_year": "2027", "request_reference": "R"}
    sealed = meta | {"signature": signature.sign(b"k" * 32, meta)}
    assert signature.verify(b"k" * 32, sealed) is None
    assert signature.verify(b"k" * 32, sealed | {"assessment_year": "2027.0", "organisation": " Kestrel  Vale "}) is None
    for key in signature.SIGNED:
        assert signature.verify(b"k" * 32, sealed | {key: "changed"}) is not None, key
    assert signature.verify(b"other key" * 4, sealed) is not None
    assert "no signature" in (signature.verify(b"k" * 32, meta) or "")
    with pytest.raises(ValueError):
        signature.sign(b"", meta)


def test_unsigned_altered_or_resigned_meta_is_refused_and_the_own_copy_verifies(org, project_db, tmp_path):  # type: ignore[no-untyped-def]
    good = _filled(org, "housing")

    def unsigned(meta):  # type: ignore[no-untyped-def]
        meta["signature"].value = None

    def other_department(meta):  # type: ignore[no-untyped-def]
        meta["department_id"].value = "adult-social-care"
        meta["request_reference"].value = layout.request_reference(2027, "adult-social-care")

    def guessed_key(meta):  # type: ignore[no-untyped-def]
        other_department(meta)
        values = {k: c.value for k, c in meta.items()}
        meta["signature"].value = signature.sign(b"a guessed key, not ours", values)

    files = {
        "own-copy.xlsx": good,
        "unsigned.xlsx": _edit_meta(good, unsigned),
        "altered.xlsx": _edit_meta(good, other_department),
        "resigned.xlsx": _edit_meta(good, guessed_key),
    }
    out = _sweep(org, project_db, tmp_path, files)
    assert out["own-copy.xlsx"].status == "accepted", out["own-copy.xlsx"].message
    assert out["own-copy.xlsx"].department_id == "housing"
    for name in ("unsigned.xlsx", "altered.xlsx", "resigned.xlsx"):
        o = out[name]
        assert (o.status, o.department_id, o.rows_accepted, o.version) == ("quarantined", None, 0, 0), (name, o.message)
        assert "this is not a workbook we sent as it was" in o.message and "ask the quality team" in o.message
    assert "carry no signature" in out["unsigned.xlsx"].message
    assert "have been changed since we sent it" in out["altered.xlsx"].message
    assert "have been changed since we sent it" in out["resigned.xlsx"].message


def test_a_workbook_signed_under_another_key_is_refused(org, project_db, tmp_path):  # type: ignore[no-untyped-def]
    out = _sweep(org, project_db, tmp_path, {"housing-evidence.xlsx": _filled(org, "housing")}, key=b"this deployment's own key")
    [o] = out.values()
    assert o.status == "rejected" and o.department_id == "housing"  # the file name still says whom to tell
    assert "changed since we sent it" in o.message
