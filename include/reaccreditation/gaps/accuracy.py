"""How far the forecast can be trusted: the gap analysis rerun on past years, against the assessor.

For every past year with both evidence and an outcome in the history, the forecast is recomputed as the
gap rules would have seen it on that year's desk-review date (evidence dated up to then, outcomes of
earlier years only) and compared element by element with the rating the assessor gave: exact match,
within one step of the scale, partials the forecast missed (the assessor found an element short that
the forecast called met) and top ratings it missed (CSE Compliance Plus, Charter Mark Best Practice).
The figures are measured, never assumed: a year without evidence in the register is left out, and says so.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

from reaccreditation.gaps.analysis import analyse, anniversary
from reaccreditation.gaps.model import Evidence, Outcome
from reaccreditation.organisation.config import Organisation
from reaccreditation.organisation.working_days import previous_working_day
from reaccreditation.standards import EXCEEDS, PARTIAL, Standard


@dataclass(frozen=True)
class Mismatch:
    element_id: str
    forecast: str
    outcome: str
    steps: int  # outcome score minus forecast score: positive = the assessor rated higher


@dataclass(frozen=True)
class YearAccuracy:
    assessment_year: int
    assessment_type: str
    as_of: date  # the desk-review date the forecast was rerun for
    elements: int
    exact: int
    within_one: int
    missed_partials: tuple[str, ...]  # assessor: partial or worse; forecast: met
    missed_top: tuple[str, ...]  # assessor: the top rating; forecast: anything less
    false_alarms: tuple[str, ...]  # forecast: partial or worse; assessor: met
    mismatches: tuple[Mismatch, ...] = field(default=())

    @property
    def exact_pct(self) -> float:
        return round(100 * self.exact / self.elements, 1) if self.elements else 0.0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["as_of"] = self.as_of.isoformat()
        data["exact_pct"] = self.exact_pct
        return data


def desk_review_date(org: Organisation, year: int) -> date:
    """That year's desk review: ``schedule.desk_review_days_before`` the anniversary of this year's first day."""
    first = anniversary(org.assessment.first_day, year)
    return previous_working_day(first - timedelta(days=org.schedule.desk_review_days_before), org.nation)


def as_of_year(org: Organisation, year: int, assessment_type: str) -> Organisation:
    """The organisation as it was configured for a past year's assessment (same departments and owners)."""
    kind = "full" if assessment_type == "full" else "surveillance"
    assessment = org.assessment.model_copy(update={"first_day": anniversary(org.assessment.first_day, year), "type": kind})
    past = org.model_copy(update={"assessment": assessment})
    past.assessment._nation = org.nation
    return past


def compare(standard: Standard, forecast: Mapping[str, str], outcome: Mapping[str, str]) -> dict[str, Any]:
    """Per-element comparison of two {element_id: rating label} maps over the elements both rate."""
    exact = within = 0
    missed_partials, missed_top, false_alarms, mismatches = [], [], [], []
    for element in standard.elements:
        f, o = standard.find_rating(forecast.get(element.id)), standard.find_rating(outcome.get(element.id))
        if f is None or o is None:
            continue
        exact += f.id == o.id
        within += abs(f.score - o.score) <= 1
        if o.level in (PARTIAL, "fails") and f.met:
            missed_partials.append(element.id)
        if o.level == EXCEEDS and f.level != EXCEEDS:
            missed_top.append(element.id)
        if f.level in (PARTIAL, "fails") and o.met:
            false_alarms.append(element.id)
        if f.id != o.id:
            mismatches.append(Mismatch(element.id, f.label, o.label, o.score - f.score))
    return {
        "elements": sum(1 for e in standard.elements if e.id in forecast and e.id in outcome),
        "exact": exact,
        "within_one": within,
        "missed_partials": tuple(missed_partials),
        "missed_top": tuple(missed_top),
        "false_alarms": tuple(false_alarms),
        "mismatches": tuple(mismatches),
    }


def forecast_accuracy(
    org: Organisation,
    evidence_by_year: Mapping[int, Iterable[Evidence | Mapping[str, Any]]],
    outcomes: Iterable[Outcome | Mapping[str, Any]],
) -> list[YearAccuracy]:
    """Rerun the forecast for every past year that has evidence and an outcome (this framework), oldest first."""
    standard = org.standard
    history = [Outcome.of(o) for o in outcomes]
    by_year: dict[int, dict[str, Outcome]] = defaultdict(dict)
    for o in history:
        if o.framework == standard.id and o.assessment_year < org.assessment.year:
            by_year[o.assessment_year][o.element_id] = o
    out = []
    for year in sorted(by_year):
        rows = [Evidence.of(r) for r in evidence_by_year.get(year, ())]
        if not rows:
            continue
        actual = by_year[year]
        kind = next(iter(actual.values())).assessment_type
        past = as_of_year(org, year, kind)
        as_of = desk_review_date(org, year)
        seen = [e for e in rows if e.evidence_date is None or e.evidence_date <= as_of]
        # what had come back by the desk review: every department with evidence in that year's register
        returned = [{"department_id": d, "assessment_year": year, "status": "accepted"} for d in {e.department_id for e in seen}]
        earlier = [o for o in history if o.assessment_year < year]
        snapshot = analyse(past, seen, returned, earlier, as_of)
        result = compare(
            standard, {e.element_id: e.forecast for e in snapshot.elements}, {k: o.rating for k, o in actual.items()}
        )
        out.append(YearAccuracy(year, kind, as_of, **result))
    return out


def summary(standard: Standard, years: list[YearAccuracy], this_year: int) -> dict[str, Any]:
    """What the packs and the dashboard say: the last measured year in a sentence, and every year's figures."""
    if not years:
        return {
            "years": [],
            "last": None,
            "sentence": "No past year has both evidence and an assessor's outcome in the history, so the forecast's "
            "accuracy cannot be measured yet.",
        }
    last = years[-1]
    when = "Last year" if last.assessment_year == this_year - 1 else f"In {last.assessment_year}"
    top = standard.label(EXCEEDS)
    misses = []
    if last.missed_partials:
        n = len(last.missed_partials)
        misses.append(f"missed {n} partial{'s' if n != 1 else ''} ({', '.join(last.missed_partials)})")
    if last.missed_top:
        misses.append(f"missed {len(last.missed_top)} {top} ({', '.join(last.missed_top)})")
    if last.false_alarms:
        n = len(last.false_alarms)
        misses.append(f"flagged {n} element{'s' if n != 1 else ''} the assessor found met ({', '.join(last.false_alarms)})")
    sentence = (
        f"{when} the forecast matched the assessor on {last.exact} of {last.elements} elements"
        f" ({last.within_one} within one step)" + (f"; it {', '.join(misses)}" if misses else "") + "."
    )
    if len(years) > 1:
        exact = sum(y.exact for y in years)
        total = sum(y.elements for y in years)
        sentence += f" Over {len(years)} years measured: {exact} of {total} ({round(100 * exact / total)}%)."
    return {"years": [y.to_dict() for y in years], "last": last.to_dict(), "sentence": sentence}
