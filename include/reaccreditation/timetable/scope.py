"""Which elements the assessment must cover, and which the assessor will look at first.

Full assessment: every element. Review year 1: the focus elements, i.e. last year's partials (from
``assessment_outcome``), the elements at risk (from the latest gap snapshot when there is one, or a
plain list given to the DAG) and this year's claims of the top rating (from ``evidence``). Review year 2
(lighter touch): the areas for improvement still from this cycle and the claims; at-risk elements are
listed but not added (reaccreditation.organisation.cycle says which parts are sourced and which are assumptions).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, MetaData, Table, inspect, select

from reaccreditation.db.schema import assessment_outcome, evidence
from reaccreditation.standards import Standard, load_standard

AT_RISK_READINESS = frozenset({"at risk", "gap"})


@dataclass(frozen=True)
class Scope:
    elements: tuple[str, ...]  # must be covered
    focus: tuple[str, ...]  # looked at first
    last_year: int | None = None
    partials: tuple[str, ...] = ()
    at_risk: tuple[str, ...] = ()
    compliance_plus: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())
    cycle: str = ""  # full assessment | review year 1 | review year 2

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self.__dict__.items()}


def last_year_partials(engine: Engine, year: int, framework: str) -> tuple[int | None, list[str]]:
    """The most recent assessment year before ``year`` with outcomes, and its elements rated partial or worse."""
    standard = load_standard(framework)
    short_of = [r.label for r in standard.ratings if r.level in ("partial", "fails")]
    with engine.connect() as conn:
        last = conn.execute(
            select(assessment_outcome.c.assessment_year)
            .where(assessment_outcome.c.assessment_year < year, assessment_outcome.c.framework == framework)
            .order_by(assessment_outcome.c.assessment_year.desc())
            .limit(1)
        ).scalar()
        if last is None:
            return None, []
        rows = conn.execute(
            select(assessment_outcome.c.element_id).where(
                assessment_outcome.c.assessment_year == last,
                assessment_outcome.c.framework == framework,
                assessment_outcome.c.rating.in_(short_of),
            )
        ).scalars()
        return int(last), sorted(rows)


def short_in_years(engine: Engine, years: Iterable[int], framework: str) -> list[str]:
    """Elements rated partial or worse in any of ``years`` (the areas for improvement of the cycle)."""
    standard = load_standard(framework)
    short_of = [r.label for r in standard.ratings if r.level in ("partial", "fails")]
    with engine.connect() as conn:
        rows = conn.execute(
            select(assessment_outcome.c.element_id)
            .distinct()
            .where(
                assessment_outcome.c.assessment_year.in_(list(years)),
                assessment_outcome.c.framework == framework,
                assessment_outcome.c.rating.in_(short_of),
            )
        ).scalars()
        return sorted(rows)


def compliance_plus_claims(engine: Engine, year: int) -> list[str]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(evidence.c.element_id)
            .distinct()
            .where(evidence.c.assessment_year == year, evidence.c.cplus_claim.is_(True), evidence.c.is_current.is_(True))
        ).scalars()
        return sorted(rows)


def at_risk_from_snapshot(payload: Any) -> list[str] | None:
    """Element ids not ready in a gap snapshot (``elements[].readiness`` 'at risk' or 'gap'); None if unreadable."""
    if not isinstance(payload, dict) or not isinstance(payload.get("elements"), list):
        return None
    out = []
    for e in payload["elements"]:
        if isinstance(e, dict) and str(e.get("readiness", "")).lower() in AT_RISK_READINESS and e.get("element_id"):
            out.append(str(e["element_id"]))
    return sorted(set(out))


def latest_gap_at_risk(engine: Engine, year: int) -> list[str] | None:
    """Elements not ready ('at risk' or 'gap') in the gap-analysis stage's latest snapshot; None while there is none."""
    with engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        if not {"gap_snapshot", "gap_element"} <= tables:
            return None
        meta = MetaData()
        snap = Table("gap_snapshot", meta, autoload_with=conn)
        element = Table("gap_element", meta, autoload_with=conn)
        latest = conn.execute(
            select(snap.c.id).where(snap.c.assessment_year == year).order_by(snap.c.id.desc()).limit(1)
        ).scalar()
        if latest is None:
            return None
        rows = conn.execute(select(element.c.element_id, element.c.readiness).where(element.c.snapshot_id == latest))
        return at_risk_from_snapshot({"elements": [{"element_id": e, "readiness": r} for e, r in rows]})


def decide_scope(
    standard: Standard,
    assessment_type: str,
    *,
    last_year: int | None = None,
    partials: Iterable[str] = (),
    at_risk: Iterable[str] = (),
    compliance_plus: Iterable[str] = (),
) -> Scope:
    ids = [e.id for e in standard.elements]
    known = set(ids)
    notes = []
    unknown = sorted({*partials, *at_risk, *compliance_plus} - known)
    if unknown:
        notes.append(f"ignored unknown element ids: {', '.join(unknown)}")
    focus_set = ({*partials, *at_risk, *compliance_plus}) & known
    focus = tuple(e for e in ids if e in focus_set)
    if assessment_type == "full":
        elements = tuple(ids)
    elif focus:
        elements = focus
    else:
        elements = tuple(ids)
        notes.append(
            f"surveillance with no partials, at-risk elements or {standard.label('exceeds')} claims on record: every element is "
            "in scope"
        )
    return Scope(
        elements=elements,
        focus=focus,
        last_year=last_year,
        partials=tuple(e for e in ids if e in set(partials)),
        at_risk=tuple(e for e in ids if e in set(at_risk)),
        compliance_plus=tuple(e for e in ids if e in set(compliance_plus)),
        notes=tuple(notes),
    )


def scope_from_database(
    engine: Engine,
    standard: Standard,
    framework: str,
    year: int,
    assessment_type: str,
    at_risk: Iterable[str] | None = None,
    org: Any = None,
) -> Scope:
    """The scope from what the database knows; ``at_risk`` (a plain list) overrides the gap snapshot."""
    from reaccreditation.organisation.cycle import REVIEW_2, cycle_year
    from reaccreditation.outcomes.history import load_outcomes

    last, partials = last_year_partials(engine, year, framework)
    notes = []
    if at_risk is None:
        at_risk = latest_gap_at_risk(engine, year)
        if at_risk is None:
            notes.append("no gap snapshot yet: at-risk elements unknown")
            at_risk = []
    cycle = None
    if org is not None:
        cycle = cycle_year(org, load_outcomes(engine))
        notes += [cycle.note] if cycle.note else []
        if cycle.kind == REVIEW_2:
            earlier = short_in_years(engine, cycle.cycle_years(year), framework)
            lighter = sorted(set(at_risk) - set(earlier))
            if lighter:
                notes.append(f"review year 2 (lighter touch): at risk but not added to the scope: {', '.join(lighter)}")
            partials, at_risk = earlier, []
    scope = decide_scope(
        standard,
        assessment_type,
        last_year=last,
        partials=partials,
        at_risk=at_risk,
        compliance_plus=compliance_plus_claims(engine, year),
    )
    if last is None:
        notes.append("no outcome history before this year: last year's partials unknown")
    label = cycle.label if cycle else ("full assessment" if assessment_type == "full" else "review")
    return Scope(**(scope.__dict__ | {"notes": tuple(notes) + scope.notes, "cycle": label}))
