"""Resubmissions: a current item that replaced one the quality team sent back, and what the department changed.

Intake replaces a department's items element by element, so the sent-back version of a new item is one of
the rows of the same department and element that the new item's submission replaced (the newest earlier
submission with rows there) whose last review state is "needs work". A new row is paired with it by title
(case and spacing ignored); rows whose titles changed are paired in order with the sent-back rows left.
A new row whose title matches an earlier row that was *not* sent back is not a resubmission.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Engine, select

from reaccreditation.db.schema import evidence
from reaccreditation.review import store
from reaccreditation.review.item import FIELDS


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value).strip()


def _same(title: Any) -> str:
    return " ".join(str(title or "").split()).casefold()


def diff(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, str]]:
    """The fields that differ, in the workbook's order: label, old value, new value (as text)."""
    return [
        {"field": label, "old": _shown(old.get(key)), "new": _shown(new.get(key))}
        for key, label in FIELDS.items()
        if _shown(old.get(key)) != _shown(new.get(key))
    ]


def mark(engine: Engine, assessment_year: int, items: list[dict[str, Any]]) -> None:
    """Give each queue item ``resubmission``: None, or what it replaced (the reviewer's reason) and the diff."""
    for item in items:
        item["resubmission"] = None
    wanted = {i["evidence_id"] for i in items}
    if not wanted:
        return
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(evidence).where(evidence.c.assessment_year == assessment_year))]
    states = store.states(engine, assessment_year)
    by_place: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        by_place.setdefault((r["department_id"], r["element_id"]), []).append(r)
    found: dict[int, dict[str, Any]] = {}
    for place_rows in by_place.values():
        new_by_submission: dict[int, list[dict[str, Any]]] = {}
        for r in place_rows:
            if r["is_current"] and r["id"] in wanted:
                new_by_submission.setdefault(r["submission_id"], []).append(r)
        for sub_id, new_rows in new_by_submission.items():
            earlier = [r for r in place_rows if not r["is_current"] and r["submission_id"] < sub_id]
            if not earlier:
                continue
            last = max(r["submission_id"] for r in earlier)
            replaced = sorted((r for r in earlier if r["submission_id"] == last), key=lambda r: r["id"])
            sent_back = [r for r in replaced if states.get(r["id"], {}).get("state") == store.NEEDS_WORK]
            if not sent_back:
                continue
            titles = {_same(r["title"]): r for r in replaced}
            left = list(sent_back)
            unpaired = []
            for new in sorted(new_rows, key=lambda r: r["id"]):
                old = titles.get(_same(new["title"]))
                if old is None:
                    unpaired.append(new)
                elif old in left:
                    found[new["id"]] = old
                    left.remove(old)
            for new, old in zip(unpaired, left, strict=False):
                found[new["id"]] = old
    current = {r["id"]: r for r in rows}
    for item in items:
        old = found.get(item["evidence_id"])
        if old is None:
            continue
        why = states.get(old["id"], {})
        item["resubmission"] = {
            "replaces": old["id"],
            "sent_back_by": why.get("reviewer_name") or why.get("reviewer"),
            "comment": why.get("comment"),
            "changes": diff(old, current[item["evidence_id"]]),
        }
