"""File safety before parsing, reading by header, and the row rules, on the corpus files."""

from __future__ import annotations

import subprocess
import sys

import pytest

from reaccreditation.intake import frame, rules
from reaccreditation.intake.reading import Unreadable, parse_date, read_return
from reaccreditation.intake.safety import UnsafeFile, check_file
from reaccreditation.standards import load_standard


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("revenues-benefits-evidence.xlsx", "not a valid .xlsx workbook"),
        ("childrens-services-evidence.xls", "old-format Excel file (.xls)"),
        ("complaints-legal-evidence.xlsx", "password-protected"),
        ("waste-environment-evidence-2027.xlsx", "contains macros"),
        ("libraries-culture-evidence.xlsx", "has content up to row 1048576, column 16384; the limit is 20000 rows x 60 columns"),
        ("evidence-final.xlsx", "Strict Open XML"),
        ("digital-bomb.xlsx", "possible zip bomb"),
    ],
)
def test_hostile_files_are_refused_before_parsing(shared_corpus, name, message):  # type: ignore[no-untyped-def]
    with pytest.raises(UnsafeFile, match=None) as caught:
        check_file(name, shared_corpus[1][name].read_bytes())
    assert message in str(caught.value)


def test_the_dimension_guard_is_needed_calamine_aborts_the_process(shared_corpus):  # type: ignore[no-untyped-def]
    code = (
        "import sys, python_calamine as c; wb = c.CalamineWorkbook.from_path(sys.argv[1]); "
        "wb.get_sheet_by_name('Evidence').to_python(skip_empty_area=False); print('survived')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(shared_corpus[1]["libraries-culture-evidence.xlsx"])],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "survived" not in result.stdout


def test_other_refusals():  # type: ignore[no-untyped-def]
    with pytest.raises(UnsafeFile, match="empty"):
        check_file("a.xlsx", b"")
    with pytest.raises(UnsafeFile, match="'.pdf' files are not accepted"):
        check_file("evidence.pdf", b"%PDF-1.4")
    with pytest.raises(UnsafeFile, match="binary data"):
        check_file("a.csv", "Element,Title\n".encode("utf-16"))


def test_renamed_and_shuffled_columns_are_read_by_header(shared_corpus):  # type: ignore[no-untyped-def]
    data = shared_corpus[1]["people-od_returns.xlsx"].read_bytes()
    returned = read_return("people-od_returns.xlsx", data, check_file("people-od_returns.xlsx", data))
    assert returned.headers["element_id"] == (3, "Element ref") and returned.headers["link"] == (4, "URL")
    assert returned.unknown_headers == ["Remarks"]
    assert len(returned.rows) == 11 and returned.rows[0].number == 2


def test_merged_element_cell_applies_to_every_row_of_the_range(shared_corpus):  # type: ignore[no-untyped-def]
    data = shared_corpus[1]["communications-evidence.xlsx"].read_bytes()
    report = check_file("communications-evidence.xlsx", data)
    assert report.sheet("Evidence").merged == [(2, 1, 3, 1)]
    returned = read_return("x.xlsx", data, report)
    assert returned.rows[0].values["element_id"] == returned.rows[1].values["element_id"] == "1.2.1"


def test_missing_columns_are_listed(shared_corpus):  # type: ignore[no-untyped-def]
    from reaccreditation.intake.reading import _from_grid

    with pytest.raises(Unreadable, match="missing the required column\\(s\\): 'Evidence type', 'Link or file name'"):
        _from_grid(
            "x.xlsx",
            "xlsx",
            "Evidence",
            [["Element", "Evidence title", "Date", "Rating"], ["1.1.1", "t", "01/04/2026", "Compliance"]],
            (1, 1),
            {},
            [],
        )


def test_cp1252_csv_is_read_with_a_note(shared_corpus):  # type: ignore[no-untyped-def]
    data = shared_corpus[1]["libraries-culture-cp1252.csv"].read_bytes()
    report = check_file("libraries-culture-cp1252.csv", data)
    assert report.encoding == "cp1252" and "Windows-1252" in report.notes[0]
    returned = read_return("x.csv", data, report)
    assert returned.rows[0].values["evidence_title"].endswith("– café")


def test_dates_in_uk_order_serials_and_nonsense():  # type: ignore[no-untyped-def]
    from datetime import date

    assert parse_date("01/04/2026") == date(2026, 4, 1)
    assert parse_date(46113.0) == date(2026, 4, 1)
    assert parse_date("31/02/2026") is None and parse_date("soon") is None


def test_python_rules_use_the_shared_issue_format():  # type: ignore[no-untyped-def]
    base = {
        "file_key": 0,
        "element_id": "1.1.1",
        "self_rating": "Compliance",
        "cplus_claim": "No",
        "cplus_justification": None,
        "prefill_note": None,
        "confirm": None,
    }
    recs = [
        base | {"row_number": 2},
        base | {"row_number": 3, "self_rating": "Compliance Plus", "cplus_claim": "Yes"},
        base | {"row_number": 4, "element_id": "2.1.1", "prefill_note": "Last year's evidence"},
    ]
    issues = rules.check(recs, {0: {"1.1.1"}}, {"1.1.1", "2.1.1"}, {0: "Housing"}, load_standard("cse"))
    got = {(i.row, i.key, i.rule) for i in issues}
    assert got == {
        (4, "element_id", "element_owned_by_department"),
        (3, "cplus_justification", "cplus_needs_justification"),
        (4, "confirm", "prefill_confirmed"),
        (3, "self_rating", "one_rating_per_element"),
    }
    assert (
        issues[0]
        .located("Evidence", "Element")
        .startswith("Sheet Evidence, row 4, column 'Element': element 2.1.1 is not owned by Housing")
    )


def test_choices_are_matched_case_insensitively(shared_corpus):  # type: ignore[no-untyped-def]
    from reaccreditation.intake.reading import ReturnedFile, Row

    returned = ReturnedFile(
        "x",
        "xlsx",
        "Evidence",
        {},
        {},
        1,
        [Row(2, {"self_rating": "partial compliance", "cplus_claim": "y", "evidence_type": "web PAGE"})],
    )
    rec = frame.records([(0, returned)])[0]
    assert (rec["self_rating"], rec["cplus_claim"], rec["evidence_type"]) == ("Partial Compliance", "Yes", "Web page")


def test_committed_suite_matches_the_code():  # type: ignore[no-untyped-def]
    import json

    from reaccreditation.intake.gx_validation import EXPECTATIONS, gx_dir

    committed = json.loads((gx_dir() / "expectations" / "evidence_rows.json").read_text())

    def norm(kw):  # type: ignore[no-untyped-def]
        return json.dumps({k: v for k, v in kw.items() if k != "meta"}, sort_keys=True)

    code = sorted((__import__("re").sub(r"(?<!^)([A-Z])", r"_\1", cls).lower(), norm(kw)) for cls, kw in EXPECTATIONS)
    stored = sorted((e["type"], norm(e["kwargs"])) for e in committed["expectations"])
    assert stored == code
    assert (gx_dir() / "checkpoints" / "evidence_rows.json").exists() and (
        gx_dir() / "validation_definitions" / "evidence_rows.json"
    ).exists()


def test_formula_text_stays_text_and_formulas_never_go_back():  # type: ignore[no-untyped-def]
    import io
    import zipfile

    from openpyxl import Workbook, load_workbook

    from reaccreditation.intake.annotate import annotate
    from reaccreditation.intake.issues import Issue
    from reaccreditation.workbook.sheets import set_text

    wb = Workbook()
    ws = wb.active
    ws.title = "Evidence"
    for c, h in enumerate(
        ["Element", "Evidence title", "Evidence type", "Link or file name", "Date of evidence", "Self-rating", "Notes"], 1
    ):
        ws.cell(1, c, h)
    for c, v in enumerate(
        ["1.1.1", '=HYPERLINK("https://evil.example","x")', "Document", "a.pdf", "01/04/2026", "Compliance", "@SUM(A1)"], 1
    ):
        set_text(ws.cell(2, c), v)
    ws.cell(3, 1, "1.1.2")
    ws.cell(3, 2, "a real formula below")
    ws.cell(3, 7).value = "=1+1"  # a live formula typed by the department
    buf = io.BytesIO()
    wb.save(buf)
    data = buf.getvalue()
    returned = read_return("x.xlsx", data, check_file("x.xlsx", data))
    assert returned.rows[0].values["evidence_title"] == '=HYPERLINK("https://evil.example","x")'
    out = annotate(data, returned, [Issue(0, 2, "evidence_title", "bad", "test")])
    with zipfile.ZipFile(io.BytesIO(out)) as z:
        assert not any(b"<f>" in z.read(n) or b"<f " in z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/"))
    back = load_workbook(io.BytesIO(out))["Evidence"]
    assert (back["B2"].data_type, back["G3"].data_type, back["G3"].value) == ("s", "s", "=1+1")
    assert back["B2"].comment.text == "Sheet Evidence, row 2, column 'Evidence title': bad"


def test_a_csv_return_is_answered_with_an_annotated_xlsx():  # type: ignore[no-untyped-def]
    import io

    from openpyxl import load_workbook

    from reaccreditation.intake.annotate import annotate
    from reaccreditation.intake.issues import Issue

    data = (
        b"Element,Evidence title,Evidence type,Link or file name,Date of "
        b"evidence,Self-rating\n1.1.1,Profile,Document,a.pdf,01/03/2019,Compliance\n"
    )
    returned = read_return("housing.csv", data, check_file("housing.csv", data))
    out = annotate(
        data,
        returned,
        [Issue(0, 2, "evidence_date", "2019-03-01 is older than the assessment window (from 2026-03-15)", "test")],
        "utf-8-sig",
    )
    ws = load_workbook(io.BytesIO(out))["CSV"]
    assert (
        ws["E2"].comment.text
        == "Sheet CSV, row 2, column 'Date of evidence': 2019-03-01 is older than the assessment window (from 2026-03-15)"
    )
