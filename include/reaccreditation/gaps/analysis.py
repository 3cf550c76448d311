"""Run the gap rules over every element and forecast the assessor's view: ``analyse(...) -> Snapshot``.

The forecast starts from the standard's "meets" rating (CSE Compliance, Charter Mark Full Compliance; the
"exceeds" rating for a justified, fresh claim) and is capped by the worst reason; then the standard's
pass rules are applied per criterion. Readiness follows from the forecast and the risks. Every number is
explained in docs/gap-analysis.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from reaccreditation.gaps.model import (
    AT_RISK,
    GAP,
    READY,
    RETURNED_STATUSES,
    Contact,
    ElementResult,
    Evidence,
    Outcome,
    Reason,
    Rollup,
    Snapshot,
    Submission,
)
from reaccreditation.gaps.rules import RULES, ElementFacts, Owner
from reaccreditation.organisation.config import Organisation
from reaccreditation.standards import EXCEEDS, FAILS, MEETS, PARTIAL, Standard


def due_date(org: Organisation, today: date) -> date:
    """When departments must close their gaps.

    The return deadline while it is ahead (departments were told it); once it has passed, the next
    readiness-pack date (leadership reviews open gaps at each pack); after the last pack, the assessment's
    first day.
    """
    if today <= org.return_deadline:
        return org.return_deadline
    ahead = sorted(d for d in (org.due_date(n) for n in org.schedule.packs_days_before) if d >= today)
    return ahead[0] if ahead else org.assessment.first_day


def anniversary(first_day: date, year: int) -> date:
    """This year's first day moved to ``year``: when the last (annual) assessment took place, near enough."""
    try:
        return first_day.replace(year=year)
    except ValueError:  # 29 February
        return first_day.replace(year=year, day=28)


def last_assessment_year(outcomes: Iterable[Outcome], framework: str, before: int) -> int | None:
    years = [o.assessment_year for o in outcomes if o.framework == framework and o.assessment_year < before]
    return max(years) if years else None


def _owners_by_element(org: Organisation, returned: set[str]) -> dict[str, list[Owner]]:
    index: dict[str, list[Owner]] = defaultdict(list)
    for d in org.departments:
        owner = Owner(d.id, d.name, tuple(Contact(p.name, p.email, d.id) for p in d.evidence_contacts), d.id in returned)
        for element_id in d.elements:
            index[element_id].append(owner)
    return index


def _forecast(standard: Standard, reasons: list[Reason]) -> tuple[str, tuple[str, ...]]:
    """The best rating the reasons allow, and the codes of the reasons that set it."""
    score = {r.label: r.score for r in standard.ratings}
    candidate = any(r.code == "cplus_candidate" for r in reasons)
    base = standard.label(EXCEEDS if candidate else MEETS)
    caps = [r.caps_at for r in reasons if r.caps_at]
    forecast = min([base, *caps], key=lambda label: score[label])
    because = tuple(dict.fromkeys(r.code for r in reasons if r.caps_at == forecast))
    if not because and candidate:
        because = ("cplus_candidate",)
    return forecast, because


def _readiness(standard: Standard, forecast: str, reasons: list[Reason]) -> str:
    if not standard.rating(forecast).met:
        return GAP
    if any(r.severity != "info" for r in reasons):
        return AT_RISK
    return READY


def _focus(standard: Standard, last: Outcome | None, readiness: str, reasons: list[Reason]) -> tuple[str, ...]:
    """Why a review visit will look at this element: last time's partials and actions, risks, top-rating claims."""
    out: list[str] = []
    last_id = standard.level_of(last.rating) if last is not None else None
    if last_id in (PARTIAL, FAILS):
        out.append(f"{standard.label(last_id)} in {last.assessment_year}")  # type: ignore[union-attr, arg-type]
    if last is not None and last.action:
        out.append(f"action from {last.assessment_year}")
    if readiness != READY:
        out.append(readiness)
    codes = {r.code for r in reasons}
    if codes & {"cplus_candidate", "cplus_unjustified"}:
        out.append(f"{standard.label(EXCEEDS)} claim")
    if last_id == EXCEEDS:
        out.append(f"{standard.label(EXCEEDS)} in {last.assessment_year}")  # type: ignore[union-attr]
    return tuple(out)


# Reason code per pass rule a criterion breaks, and which of its elements the reason is put on.
_PASS_RULE_REASONS = {
    "partial_limit": ("criterion_partial_limit", lambda r: r.level == PARTIAL),
    "min_share_met": ("criterion_min_share_met", lambda r: not r.met),
    "forbidden_rating": ("criterion_forbidden_rating", None),  # the elements with the forbidden rating
}


def criterion_pass_rules(standard: Standard, results: list[ElementResult]) -> list[ElementResult]:
    """The standard's pass rules over each criterion's forecast (Charter Mark: partial limits, 70% met, no
    major non-compliance): a criterion that would fail marks its offending elements as gaps, saying why."""
    out = list(results)
    forbidden = set(standard.pass_rules.forbidden)
    for criterion in standard.criteria:
        idx = [i for i, r in enumerate(out) if r.criterion_id == criterion.id]
        for check in standard.check_criterion(criterion, [out[i].forecast for i in idx]):
            code, offends = _PASS_RULE_REASONS[check.code]
            for i in idx:
                r = out[i]
                rating = standard.rating(r.forecast)
                if not (offends(rating) if offends else rating.id in forbidden):
                    continue
                reason = Reason(
                    code,
                    "gap",
                    check.message,
                    r.reasons[0].departments if r.reasons else r.owners,
                    r.reasons[0].contacts if r.reasons else (),
                )
                out[i] = replace(r, reasons=(*r.reasons, reason), readiness=GAP)
    return out


def _rollup(
    standard: Standard,
    key: str,
    title: str,
    results: list[ElementResult],
    reasons: int = 0,
    max_partials: int | None = None,
    check_pass: bool = False,
) -> Rollup:
    n = len(results)
    compliant = standard.level(MEETS).score
    ratings = {r.label: 0 for r in standard.ratings}
    for r in results:
        ratings[r.forecast] += 1
    partials = ratings[standard.label(PARTIAL)]
    criterion = next((c for c in standard.criteria if c.id == key), None) if check_pass else None
    fails = tuple(c.message for c in standard.check_criterion(criterion, [r.forecast for r in results])) if criterion else ()
    return Rollup(
        key=key,
        title=title,
        elements=n,
        ready=sum(r.readiness == READY for r in results),
        at_risk=sum(r.readiness == AT_RISK for r in results),
        gaps=sum(r.readiness == GAP for r in results),
        ratings=ratings,
        score=round(sum(r.score for r in results) / n, 2) if n else 0.0,
        ready_pct=round(100 * sum(r.readiness == READY for r in results) / n, 1) if n else 0.0,
        compliant_pct=round(100 * sum(r.score >= compliant for r in results) / n, 1) if n else 0.0,
        reasons=reasons,
        max_partials=max_partials,
        partial_limit_exceeded=max_partials is not None and partials > max_partials,
        fails=fails,
    )


def rollups(org: Organisation, results: list[ElementResult]) -> dict[str, Any]:
    standard = org.standard
    by_sub: dict[str, list[ElementResult]] = defaultdict(list)
    by_crit: dict[str, list[ElementResult]] = defaultdict(list)
    by_dept: dict[str, list[ElementResult]] = defaultdict(list)
    reasons_by_dept: dict[str, int] = defaultdict(int)
    for r in results:
        by_sub[r.sub_criterion_id].append(r)
        by_crit[r.criterion_id].append(r)
        for d in r.owners:
            by_dept[d].append(r)
        for reason in r.problems:
            for d in reason.departments:
                reasons_by_dept[d] += 1
    return {
        "overall": _rollup(standard, standard.id, standard.name, results),
        "criteria": tuple(
            _rollup(standard, c.id, c.title, by_crit[c.id], max_partials=c.max_partials, check_pass=True)
            for c in standard.criteria
        ),
        "sub_criteria": tuple(_rollup(standard, s.id, s.title, by_sub[s.id]) for s in standard.sub_criteria),
        "departments": tuple(_rollup(standard, d.id, d.name, by_dept[d.id], reasons_by_dept[d.id]) for d in org.departments),
    }


def year_on_year(
    standard: Standard,
    outcomes: Iterable[Outcome],
    snapshot_elements: Iterable[ElementResult] = (),
    assessment_year: int | None = None,
    assessment_type: str | None = None,
) -> tuple[dict[str, Any], ...]:
    """Ratings per year from the imported history (this framework), then this year's forecast for comparison."""
    labels = [r.label for r in standard.ratings]
    years: dict[int, dict[str, Any]] = {}
    for o in outcomes:
        if o.framework != standard.id:
            continue
        row = years.setdefault(
            o.assessment_year,
            {
                "assessment_year": o.assessment_year,
                "kind": "outcome",
                "assessment_type": o.assessment_type,
                "ratings": dict.fromkeys(labels, 0),
            },
        )
        rating = standard.find_rating(o.rating)
        if rating is not None:
            row["ratings"][rating.label] += 1
    out = [years[y] for y in sorted(years)]
    elements = list(snapshot_elements)
    if elements and assessment_year is not None:
        ratings = dict.fromkeys(labels, 0)
        for e in elements:
            ratings[e.forecast] += 1
        out.append(
            {"assessment_year": assessment_year, "kind": "forecast", "assessment_type": assessment_type, "ratings": ratings}
        )
    cplus, partial = standard.label(EXCEEDS), standard.label(PARTIAL)
    for row in out:
        row["compliance_plus"] = row["ratings"][cplus]
        row["partials"] = row["ratings"][partial]
        row["elements"] = sum(row["ratings"].values())
    return tuple(out)


def _broken(evidence: Iterable[Evidence], broken: Mapping[str, str]) -> tuple[tuple[str, str, str], ...]:
    found = {(e.department_id, e.link, broken[e.link]) for e in evidence if e.link and e.link in broken}
    return tuple(sorted(found))  # type: ignore[arg-type]


def analyse(
    org: Organisation,
    evidence_rows: Iterable[Evidence | Mapping[str, Any]],
    submissions: Iterable[Submission | Mapping[str, Any]],
    outcomes: Iterable[Outcome | Mapping[str, Any]],
    today: date,
    broken_links: Mapping[str, str] | None = None,
    needs_work: Mapping[str, Sequence[tuple[str, str, str, str]]] | None = None,
) -> Snapshot:
    """The readiness of every element for this year's assessment, as the gap rules see it on ``today``.

    ``evidence_rows`` are the register rows for the assessment year (rows no longer current, of another
    year or for an element the standard lacks are ignored); ``submissions`` and ``outcomes`` may span years;
    ``broken_links``: link -> what the link check found wrong with it; ``needs_work``: element -> (department,
    title, reason, reviewer) of the items the quality team sent back (``review.store.needs_work``). A row's
    ``review_state`` (when given): ``not_relevant`` rows do not count as the element's evidence, and
    ``unreviewed`` rows put it at risk from ``schedule.unreviewed_at_risk_working_days`` before the desk review.
    """
    standard = org.standard
    year = org.assessment.year
    evidence = [Evidence.of(r) for r in evidence_rows]
    subs = [Submission.of(s) for s in submissions]
    history = [Outcome.of(o) for o in outcomes]

    by_element: dict[str, list[Evidence]] = defaultdict(list)
    not_relevant: dict[str, int] = defaultdict(int)  # a reviewer found the item does not evidence its element
    for e in evidence:
        if not e.is_current:
            continue
        if e.review_state == "not_relevant":
            not_relevant[e.element_id] += 1
        else:
            by_element[e.element_id].append(e)
    returned = {s.department_id for s in subs if s.assessment_year == year and s.status in RETURNED_STATUSES and s.department_id}
    owners = _owners_by_element(org, returned)
    last_year = last_assessment_year(history, standard.id, year)
    last_by_element = {o.element_id: o for o in history if o.framework == standard.id and o.assessment_year == last_year}
    since_last = anniversary(org.assessment.first_day, last_year) if last_year is not None else None
    quality_team = tuple(Contact(p.name, p.email, None) for p in org.quality_team.members)
    window_start = org.assessment.evidence_window_start
    full = org.assessment.type == "full"
    score = {r.label: r.score for r in standard.ratings}
    desk_review, at_risk_from = org.desk_review, org.unreviewed_at_risk_from

    results: list[ElementResult] = []
    for element in standard.elements:
        facts = ElementFacts(
            element=element,
            standard=standard,
            owners=tuple(owners.get(element.id, ())),
            evidence=tuple(by_element.get(element.id, ())),
            window_start=window_start,
            since_last=since_last,
            last=last_by_element.get(element.id),
            return_deadline=org.return_deadline,
            today=today,
            quality_team=quality_team,
            broken_links=_broken(by_element.get(element.id, ()), broken_links) if broken_links else (),
            needs_work=tuple((needs_work or {}).get(element.id, ())),
            not_relevant=not_relevant.get(element.id, 0),
            desk_review=desk_review,
            unreviewed_at_risk_from=at_risk_from,
        )
        reasons = [reason for rule in RULES for reason in rule(facts)]
        forecast, because = _forecast(standard, reasons)
        readiness = _readiness(standard, forecast, reasons)
        focus = _focus(standard, facts.last, readiness, reasons)
        results.append(
            ElementResult(
                element_id=element.id,
                title=element.title,
                criterion_id=element.criterion_id,
                sub_criterion_id=element.sub_criterion_id,
                owners=facts.owner_ids(),
                readiness=readiness,  # type: ignore[arg-type]
                forecast=forecast,
                forecast_short=standard.rating(forecast).short,
                score=score[forecast],
                forecast_because=because,
                reasons=tuple(reasons),
                in_focus=full or bool(focus),
                focus=(("full assessment",) if full else ()) + focus,
                evidence_count=len(facts.evidence),
                fresh_evidence_count=len(facts.fresh),
                last_rating=facts.last.rating if facts.last else None,
                last_year=last_year if facts.last else None,
            )
        )
    results = criterion_pass_rules(standard, results)
    groups = rollups(org, results)
    from reaccreditation.organisation.cycle import cycle_year

    cycle = cycle_year(
        org,
        [{"assessment_year": o.assessment_year, "framework": o.framework, "assessment_type": o.assessment_type} for o in history],
    )
    return Snapshot(
        organisation=org.organisation.name,
        framework=standard.id,
        assessment_year=year,
        assessment_type=org.assessment.type,
        as_of=today,
        evidence_window_start=window_start,
        due_date=due_date(org, today),
        last_assessment_year=last_year,
        elements=tuple(results),
        year_on_year=year_on_year(standard, history, results, year, org.assessment.type),
        cycle=cycle.label,
        **groups,
    )
