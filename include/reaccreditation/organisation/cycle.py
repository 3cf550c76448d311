"""Where this year sits in the three-year cycle: full assessment, review year 1 or review year 2.

Sourced (published CSE assessment reports and certification bodies' descriptions): a full assessment
of every element, then two annual reviews; year 1 is a review with on-site interviews, year 2 a lighter
touch; both start from a desk review of the uploaded evidence that concentrates on the top-rating
claims and the areas for improvement found earlier in the cycle. Project assumptions, not sourced:
which elements each review covers beyond that (see :func:`review_focus`), the wording of what the
requests ask, the 12-month evidence window and the rule that a top-rating claim needs a justification.

The cycle year comes from the config (``assessment.type``, and ``assessment.review_year`` when given)
and otherwise from the history: the years since the last full assessment of this framework.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

FULL, REVIEW_1, REVIEW_2 = "full", "review-1", "review-2"
LABELS = {FULL: "full assessment", REVIEW_1: "review year 1", REVIEW_2: "review year 2"}
CYCLE_YEARS = 3

# What each cycle year asks of departments (request email and workbook cover).
ASKS = {
    FULL: "This is a full assessment: the assessor looks at every element, so send current evidence for each one.",
    REVIEW_1: (
        "This is review year 1 of the cycle: the assessor's desk review and interviews concentrate on last "
        "year's areas for improvement and on {top} claims. Confirm last year's evidence that is still current, "
        "and send new evidence for elements rated below {meets} last time and for any {top} claim."
    ),
    REVIEW_2: (
        "This is review year 2, a lighter-touch review: confirm what is still current, and send new evidence "
        "only where something has changed, for the areas for improvement still open from this cycle, and for "
        "any {top} claim."
    ),
}


@dataclass(frozen=True)
class CycleYear:
    kind: str  # FULL | REVIEW_1 | REVIEW_2
    last_full_year: int | None
    source: str  # config | history | assumed
    note: str = ""

    @property
    def label(self) -> str:
        return LABELS[self.kind]

    def asks(self, standard: Any) -> str:
        return ASKS[self.kind].format(top=standard.label("exceeds"), meets=standard.label("meets"))

    def cycle_years(self, year: int) -> list[int]:
        """The assessment years of the current cycle before ``year`` (from its full assessment on)."""
        start = year if self.kind == FULL else self.last_full_year
        return list(range(start, year)) if start is not None else [year - 1]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "label": self.label,
            "last_full_year": self.last_full_year,
            "source": self.source,
            "note": self.note,
        }


def last_full_year(outcomes: Iterable[Mapping[str, Any]], framework: str, before: int) -> int | None:
    years = [
        int(o["assessment_year"])
        for o in outcomes
        if o.get("framework", framework) == framework
        and o.get("assessment_type") == "full"
        and int(o["assessment_year"]) < before
    ]
    return max(years) if years else None


def cycle_year(org: Any, outcomes: Iterable[Mapping[str, Any]]) -> CycleYear:
    """This year's place in the cycle, from the config and the outcomes history."""
    a = org.assessment
    full = last_full_year(outcomes, org.framework, a.year)
    if a.type == "full":
        return CycleYear(FULL, full, "config")
    if a.review_year:
        return CycleYear(REVIEW_1 if a.review_year == 1 else REVIEW_2, full, "config")
    if full is None:
        return CycleYear(
            REVIEW_1,
            None,
            "assumed",
            "no full assessment in the history: taken as review year 1 (set assessment.review_year to say otherwise)",
        )
    since = a.year - full
    if since == 1:
        return CycleYear(REVIEW_1, full, "history")
    if since == 2:
        return CycleYear(REVIEW_2, full, "history")
    return CycleYear(
        REVIEW_2,
        full,
        "history",
        f"the last full assessment was {full}, {since} years ago: a full assessment is due every {CYCLE_YEARS} years",
    )


def review_focus(
    kind: str,
    *,
    last_year_short: Iterable[str],
    cycle_short: Iterable[str],
    at_risk: Iterable[str],
    top_claims: Iterable[str],
) -> set[str]:
    """The elements a review covers (assumption, see the module doc): year 1 the last assessment's areas for
    improvement, the elements at risk now and the top-rating claims; year 2 (lighter) the areas for
    improvement still from this cycle and the claims, with at-risk elements listed but not added."""
    if kind == REVIEW_2:
        return {*cycle_short, *top_claims}
    return {*last_year_short, *at_risk, *top_claims}
