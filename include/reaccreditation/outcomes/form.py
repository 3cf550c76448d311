"""The assessor's verdict, typed into an Airflow form after the assessment, as outcome rows.

The form keeps to what the assessor's report lists: the elements rated above the standard (CSE
Compliance Plus, Charter Mark Best Practice), the partial and failed ones with the action for each, and
"everything else meets it" (Compliance, Full Compliance); the form's fields are the same for every
standard, the labels written into the history are the standard's own. Or a report already in the
history file format (CSV or xlsx) is imported as it is. Either way the rows go through
:mod:`reaccreditation.outcomes.history`, so the same checks and the same upsert by (year, element) apply.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reaccreditation.outcomes.history import COLUMNS, history_file
from reaccreditation.settings import config_path
from reaccreditation.standards import Standard

if TYPE_CHECKING:
    from reaccreditation.organisation.config import Organisation

_SPLIT = re.compile(r"[,;\n]+")


class OutcomeFormError(ValueError):
    """The outcome form cannot be stored; the message names the field and the entry."""


def _ids(text: Any) -> list[str]:
    return [t.strip() for t in _SPLIT.split(str(text or "")) if t.strip()]


def _with_actions(field: str, text: Any) -> list[tuple[str, str]]:
    """``3.2.1: publish the standards; 4.1.2: ...`` (one per line or separated by ';')."""
    out = []
    for item in (t.strip() for t in re.split(r"[;\n]+", str(text or "")) if t.strip()):
        element, sep, action = item.partition(":")
        if not sep or not action.strip():
            raise OutcomeFormError(
                f"{field}: {item!r} needs the assessor's action, e.g. '{element.strip() or '3.2.1'}: publish the service "
                "standards'"
            )
        out.append((element.strip(), " ".join(action.split())))
    return out


def rows_from_form(
    form: Mapping[str, Any], standard: Standard, *, year: int, assessment_type: str, framework: str
) -> list[dict[str, str]]:
    """One row per element of the standard; every element not listed meets it (if confirmed)."""
    plus = _ids(form.get("compliance_plus"))
    partial = _with_actions("partial", form.get("partial"))
    non = _with_actions("non_compliance", form.get("non_compliance"))
    if not form.get("rest_are_compliance"):
        raise OutcomeFormError(
            f"rest_are_compliance: tick it to confirm every element not listed is {standard.label('meets')} (or give a "
            "report_path)"
        )
    known = {e.id for e in standard.elements}
    seen: dict[str, str] = {}
    problems = []
    for field, ids in (("compliance_plus", plus), ("partial", [e for e, _ in partial]), ("non_compliance", [e for e, _ in non])):
        for e in ids:
            if e not in known:
                problems.append(f"{field}: {e!r} is not a {standard.short_name} element (ids look like '1.1.1')")
            elif e in seen:
                problems.append(f"{field}: {e} is also listed under {seen[e]}")
            else:
                seen[e] = field
    if problems:
        raise OutcomeFormError("outcome form: " + "; ".join(problems))
    rating = {e: standard.label("exceeds") for e in plus}
    rating |= {e: standard.label("partial") for e, _ in partial}
    rating |= {e: standard.label("fails") for e, _ in non}
    actions = dict(partial + non)
    return [
        {
            "assessment_year": str(year),
            "framework": framework,
            "assessment_type": assessment_type,
            "element_id": e.id,
            "rating": rating.get(e.id, standard.label("meets")),
            "action": actions.get(e.id, ""),
        }
        for e in standard.elements
    ]


LISTS = ("compliance_plus", "partial", "non_compliance")


def file_to_import(form: Mapping[str, Any], org: Organisation, output: Path) -> Path:
    """The report file the form names, or else the form's lists written as one in the history format.

    The entered form is kept as ``output/<year>/outcome/outcome-<year>.csv``: what is imported, and what
    a person can check again.
    """
    report = str(form.get("report_path") or "").strip()
    if report:
        if any(str(form.get(k) or "").strip() for k in LISTS):
            raise OutcomeFormError("report_path: give either a report file or the lists, not both")
        return history_file(report, config_path().parent)  # the history folder only, as assessment_history
    a = org.assessment
    rows = rows_from_form(form, org.standard, year=a.year, assessment_type=a.type, framework=org.framework)
    return write_csv(output / str(a.year) / "outcome" / f"outcome-{a.year}.csv", rows)


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    """The entered outcome in the history file format: what is imported, and what a person can re-check."""
    from reaccreditation.files import write_atomic

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_atomic(path, buf.getvalue().encode("utf-8"))
    return path
