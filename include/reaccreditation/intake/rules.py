"""Row rules GX cannot express, in the same :class:`Issue` format as the GX results.

They need context GX does not have (which department sent the file, what it owns), look across rows
(one self-rating per element) or combine columns (a claim of the standard's top rating, CSE's Compliance
Plus or Charter Mark's Best Practice, needs a justification; a pre-filled row from last year must be
confirmed).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from reaccreditation.intake.issues import Issue
from reaccreditation.standards import Standard
from reaccreditation.workbook import layout


def department_elements(
    recs: Iterable[Mapping[str, Any]], owned: Mapping[int, Collection[str]], all_ids: Collection[str], names: Mapping[int, str]
) -> list[Issue]:
    """An element of the standard that the sending department does not own is not its evidence."""
    out = []
    for r in recs:
        element = r["element_id"]
        fk = r["file_key"]
        if element and element in all_ids and fk in owned and element not in owned[fk]:
            out.append(
                Issue(
                    fk,
                    r["row_number"],
                    "element_id",
                    f"element {element} is not owned by {names.get(fk, 'your department')}; "
                    "send it to the owning department or ask the quality team to change ownership",
                    "element_owned_by_department",
                )
            )
    return out


def cplus_justified(recs: Iterable[Mapping[str, Any]], standard: Standard) -> list[Issue]:
    out = []
    CPLUS = standard.label("exceeds")
    for r in recs:
        claims = r["cplus_claim"] == "Yes" or r["self_rating"] == CPLUS
        if claims and not r["cplus_justification"]:
            out.append(
                Issue(
                    r["file_key"],
                    r["row_number"],
                    "cplus_justification",
                    f"a {CPLUS} claim needs a justification: say what makes this exceptional",
                    "cplus_needs_justification",
                )
            )
        elif r["cplus_claim"] == "Yes" and r["self_rating"] not in (None, CPLUS):
            out.append(
                Issue(
                    r["file_key"],
                    r["row_number"],
                    "cplus_claim",
                    f"claims {CPLUS} but the self-rating is {r['self_rating']!r}: make them agree",
                    "cplus_claim_matches_rating",
                )
            )
    return out


def prefill_confirmed(recs: Iterable[Mapping[str, Any]]) -> list[Issue]:
    out = []
    for r in recs:
        if r["prefill_note"] and not r["confirm"]:
            out.append(
                Issue(
                    r["file_key"],
                    r["row_number"],
                    "confirm",
                    f"last year's evidence must be confirmed: choose {' or '.join(repr(c) for c in layout.CONFIRM_CHOICES)}",
                    "prefill_confirmed",
                )
            )
    return out


def one_rating_per_element(recs: Iterable[Mapping[str, Any]], standard: Standard) -> list[Issue]:
    """Cross-row: every row of an element carries the same self-rating (the first one given wins)."""
    first: dict[tuple[int, str], tuple[int, str]] = {}
    out = []
    for r in sorted(recs, key=lambda r: (r["file_key"], r["row_number"])):
        if not r["element_id"] or r["self_rating"] not in standard.labels:
            continue
        key = (r["file_key"], r["element_id"])
        if key not in first:
            first[key] = (r["row_number"], r["self_rating"])
        elif first[key][1] != r["self_rating"]:
            row, rating = first[key]
            out.append(
                Issue(
                    r["file_key"],
                    r["row_number"],
                    "self_rating",
                    f"row {row} rates element {r['element_id']} {rating!r}; use one self-rating per element",
                    "one_rating_per_element",
                )
            )
    return out


def check(
    recs: list[Mapping[str, Any]],
    owned: Mapping[int, Collection[str]],
    all_ids: Collection[str],
    names: Mapping[int, str],
    standard: Standard,
) -> list[Issue]:
    return [
        *department_elements(recs, owned, all_ids, names),
        *cplus_justified(recs, standard),
        *prefill_confirmed(recs),
        *one_rating_per_element(recs, standard),
    ]
