"""The gap rules: each is a plain function from one element's facts to the reasons it is not ready.

A rule sees an :class:`ElementFacts` (the element's evidence, owners, last outcome, the season's dates)
and returns zero or more :class:`Reason`. Ratings are compared on the standard's own scores, so the
rules work for CSE and Charter Mark alike. docs/gap-analysis.md lists every rule with its severity and cap.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

from reaccreditation.gaps.model import Contact, Evidence, Outcome, Reason
from reaccreditation.standards import EXCEEDS, FAILS, MEETS, PARTIAL, Element, Standard


@dataclass(frozen=True)
class Owner:
    """A department owning the element, with the people to ask and whether its workbook is back."""

    department_id: str
    name: str
    contacts: tuple[Contact, ...]
    returned: bool


@dataclass(frozen=True)
class ElementFacts:
    element: Element
    standard: Standard
    owners: tuple[Owner, ...]
    evidence: tuple[Evidence, ...]  # current rows for this element, this assessment year
    window_start: date  # evidence older than this is stale
    since_last: date | None  # the anniversary of this year's first day in the last assessment year
    last: Outcome | None  # this element's outcome at the last assessment (same framework)
    return_deadline: date
    today: date
    quality_team: tuple[Contact, ...] = ()
    broken_links: tuple[tuple[str, str, str], ...] = ()  # (department, link, what is wrong) of this element's evidence
    # (department, item title, the reviewer's reason, reviewer) of items the quality team sent back (review.store)
    needs_work: tuple[tuple[str, str, str, str], ...] = ()
    not_relevant: int = 0  # items a reviewer marked not relevant to this element (left out of ``evidence``)
    desk_review: date | None = None  # the assessor's desk review of the uploaded evidence
    unreviewed_at_risk_from: date | None = None  # from this day an unreviewed item puts the element at risk
    fresh: tuple[Evidence, ...] = field(init=False)  # evidence dated on or after the window start

    def __post_init__(self) -> None:
        start = self.window_start
        object.__setattr__(
            self, "fresh", tuple(e for e in self.evidence if e.evidence_date is not None and e.evidence_date >= start)
        )

    def level_of(self, text: str | None) -> str | None:
        """A rating written any way the standard knows (label, id or short form) -> its level; else None."""
        return rating_levels(self.standard).get(text.strip().lower()) if text else None

    def label(self, level: str) -> str:
        return self.standard.label(level)

    def contacts(self, department_ids: Sequence[str] | None = None) -> tuple[Contact, ...]:
        wanted = None if department_ids is None else set(department_ids)
        out = tuple(c for o in self.owners if wanted is None or o.department_id in wanted for c in o.contacts)
        return out or self.quality_team

    def owner_ids(self) -> tuple[str, ...]:
        return tuple(o.department_id for o in self.owners)

    def reason(
        self, code: str, severity: str, message: str, departments: Sequence[str] | None = None, caps_at: str | None = None
    ) -> Reason:
        depts = self.owner_ids() if departments is None else tuple(departments)
        return Reason(code, severity, message, depts, self.contacts(depts), None if caps_at is None else self.label(caps_at))  # type: ignore[arg-type]


Rule = Callable[[ElementFacts], list[Reason]]

_RATING_LEVELS: dict[str, dict[str, str]] = {}


def rating_levels(standard: Standard) -> dict[str, str]:
    """Every way of writing a rating (label, id, short form; lower case) -> its level, per standard (cached: hot path)."""
    found = _RATING_LEVELS.get(standard.id)
    if found is None:
        found = {key.lower(): r.level for r in standard.ratings for key in (r.id, r.label, r.short)}
        _RATING_LEVELS[standard.id] = found
    return found


def no_owner(f: ElementFacts) -> list[Reason]:
    """Nobody is asked for evidence: the quality team must assign the element."""
    if f.owners:
        return []
    return [f.reason("no_owner", "gap", "No department owns this element in the config; assign an owner", (), FAILS)]


def no_evidence(f: ElementFacts) -> list[Reason]:
    """Nothing in the register for the element, counting none of the items a reviewer found not relevant to it."""
    if f.evidence:
        return []
    message = "No evidence in the register for this element"
    if f.not_relevant:
        message += f": the {f.not_relevant} item(s) sent were marked not relevant to it by the quality team"
    return [f.reason("no_evidence", "gap", message, caps_at=FAILS)]


def stale_evidence(f: ElementFacts) -> list[Reason]:
    """Evidence exists but all of it predates the window (undated evidence cannot show it is recent)."""
    if not f.evidence or f.fresh:
        return []
    dated = [e.evidence_date for e in f.evidence if e.evidence_date is not None]
    newest = f"newest dated {max(dated).isoformat()}" if dated else "none of it dated"
    departments = sorted({e.department_id for e in f.evidence})
    message = f"Only stale evidence: {len(f.evidence)} item(s), {newest}; the window starts {f.window_start.isoformat()}"
    return [f.reason("stale_evidence", "gap", message, departments, PARTIAL)]


def self_rated_below_compliance(f: ElementFacts) -> list[Reason]:
    """A department's own rating below meeting the element is the best early warning we have."""
    by_rating: dict[str | None, set[str]] = {}
    for e in f.evidence:
        by_rating.setdefault(f.level_of(e.self_rating), set()).add(e.department_id)
    out: list[Reason] = []
    for rating_id, code in ((FAILS, "self_rated_non_compliance"), (PARTIAL, "self_rated_partial")):
        departments = sorted(by_rating.get(rating_id, ()))
        if departments:
            message = f"Self-rated {f.label(rating_id)} by {', '.join(departments)}"
            out.append(f.reason(code, "gap", message, departments, rating_id))
    return out


def open_action(f: ElementFacts) -> list[Reason]:
    """Partial (or worse) last time and nothing dated since the last assessment to show the action done."""
    if f.last is None or f.level_of(f.last.rating) not in (PARTIAL, FAILS) or f.since_last is None:
        return []
    since = f.since_last
    if any(e.evidence_date is not None and e.evidence_date >= since for e in f.evidence):
        return []
    action = f": action was '{f.last.action}'" if f.last.action else ""
    message = (
        f"{f.label(f.level_of(f.last.rating) or PARTIAL)} at the {f.last.assessment_year} assessment and no evidence "
        f"dated since {since.isoformat()}{action}"
    )
    return [f.reason("open_action", "gap", message, caps_at=PARTIAL)]


def workbook_not_returned(f: ElementFacts) -> list[Reason]:
    """An owner with no accepted/partial submission this year: its evidence may still be missing."""
    late = [o.department_id for o in f.owners if not o.returned]
    if not late:
        return []
    when = "overdue since" if f.today > f.return_deadline else "due"
    message = f"Workbook not returned by {', '.join(late)} ({when} {f.return_deadline.isoformat()})"
    return [f.reason("workbook_not_returned", "risk", message, late)]


def compliance_plus(f: ElementFacts) -> list[Reason]:
    """Above the standard (CSE's Compliance Plus, Charter Mark's Best Practice): a fresh, justified claim is a
    candidate; a bare claim, or last time's top rating without a fresh claim, is at risk."""
    top = f.label(EXCEEDS)
    justified = [e for e in f.fresh if e.cplus_claim and e.cplus_justification]
    bare = sorted({e.department_id for e in f.evidence if e.cplus_claim and not e.cplus_justification})
    out: list[Reason] = []
    if justified:
        departments = sorted({e.department_id for e in justified})
        out.append(
            f.reason("cplus_candidate", "info", f"{top} claimed with justification by {', '.join(departments)}", departments)
        )
    elif bare:
        out.append(
            f.reason(
                "cplus_unjustified",
                "risk",
                f"{top} claimed without a justification by {', '.join(bare)}",
                bare,
                MEETS,
            )
        )
    if not justified and f.last is not None and f.level_of(f.last.rating) == EXCEEDS:
        message = f"{top} at the {f.last.assessment_year} assessment; no fresh, justified evidence to keep it"
        out.append(f.reason("cplus_lapsing", "risk", message, caps_at=MEETS))
    return out


def broken_link(f: ElementFacts) -> list[Reason]:
    """A link the assessor will follow and find dead (the link check's verdict): fix it before the desk review."""
    out = []
    for department, url, detail in f.broken_links:
        out.append(f.reason("broken_link", "risk", f"Evidence link does not work: {url} ({detail})", [department]))
    return out


def sent_back(f: ElementFacts) -> list[Reason]:
    """The quality team read the item and found it does not show what the element asks: a gap, in their words."""
    out = []
    for department, title, why, reviewer in f.needs_work:
        message = f"Needs work ({reviewer or 'the quality team'}): '{title}': {why}"
        out.append(f.reason("needs_work", "gap", message, [department], PARTIAL))
    return out


def unreviewed(f: ElementFacts) -> list[Reason]:
    """Close to the desk review, evidence nobody in the quality team has judged may not show what the assessor
    needs: at risk, naming how many items wait and for whom."""
    if f.unreviewed_at_risk_from is None or f.today < f.unreviewed_at_risk_from:
        return []
    waiting = [e for e in f.evidence if e.review_state == "unreviewed"]
    if not waiting:
        return []
    when = f" (desk review {f.desk_review.isoformat()})" if f.desk_review else ""
    departments = sorted({e.department_id for e in waiting})
    message = f"{len(waiting)} evidence item(s) not reviewed yet{when}: the quality team has not judged them"
    # the departments whose items wait (so their filter shows it); the quality team is who can act
    return [Reason("unreviewed", "risk", message, tuple(departments), f.quality_team or f.contacts(departments))]


# Per-element rules, in the order their reasons are listed. The standard's pass rules (Charter Mark's
# partial limits, 70% met, no major non-compliance) need the whole criterion's forecast, so they run
# after these (analysis.criterion_pass_rules).
RULES: tuple[Rule, ...] = (
    no_owner,
    no_evidence,
    stale_evidence,
    self_rated_below_compliance,
    open_action,
    workbook_not_returned,
    broken_link,
    sent_back,
    unreviewed,
    compliance_plus,
)
