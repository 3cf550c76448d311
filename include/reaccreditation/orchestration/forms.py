"""The forms approvers fill in on an approval task's Required Actions page (Airflow Params).

Each field's meaning is the domain's: ``timetable.replan`` reads the re-plan form, ``outcomes.form``
the outcome form; every form keeps a comment for the audit record.
"""

from __future__ import annotations

from airflow.sdk import Param


def _text(title: str, description: str) -> Param:
    return Param(None, type=["null", "string"], title=title, description=description)


COMMENT = {
    "comment": _text("Comment", "why, especially when rejecting (kept in the approval record and told to the quality team)")
}

REPLAN = {
    "lock_sessions": _text("Lock sessions", "session keys to keep exactly where they are, comma-separated"),
    "exclude_people": _text("Leave out people", "emails (or names) who cannot attend, comma-separated"),
    "exclude_days": _text("Leave out days", "assessment day numbers to keep free, e.g. 2"),
    "move_sessions": _text("Move sessions", "session=day, e.g. depot-visit=3 (site visits to another day)"),
    "comment": _text("Comment", "why (kept in the approval record)"),
}
REPLANNED = {"comment": REPLAN["comment"]}

# Element ids as the standards write them (1.1.1); checked again against this year's standard when stored.
ELEMENT = r"\d+\.\d+\.\d+"
ELEMENT_LIST = rf"^[\s,;]*({ELEMENT}[\s,;]*)*$"
# One "element: action" per line (or separated by ';'); a separator is needed so no text is read two ways.
ELEMENT_ACTIONS = rf"^\s*({ELEMENT}[ \t]*:[ \t]*[^\s;][^;\n]*([;\n]\s*|$))*$"


def _lines(title: str, description: str) -> Param:
    return Param(None, type=["null", "string"], format="multiline", pattern=ELEMENT_ACTIONS, title=title, description=description)


OUTCOME = {  # in no standard's words: the page names this year's labels (Compliance Plus, Best Practice, ...)
    "compliance_plus": Param(
        None,
        type=["null", "string"],
        pattern=ELEMENT_LIST,
        title="Rated above the standard",
        description="element ids with the top rating (named on this page), comma-separated, e.g. 1.1.3, 2.2.1",
    ),
    "partial": _lines("Rated partial", "one per line: element: the assessor's action, e.g. 3.2.1: publish the service standards"),
    "non_compliance": _lines("Rated not met", "one per line, as for partial (element: the assessor's action)"),
    "rest_are_compliance": Param(
        False, type="boolean", title="Every other element meets the standard", description="tick to confirm"
    ),
    "report_path": _text("Or: report file", "path of an outcomes CSV/xlsx in the history format (instead of the lists)"),
    "comment": _text("Comment", "kept with the record (e.g. the report's reference)"),
}
