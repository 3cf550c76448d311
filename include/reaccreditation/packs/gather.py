"""The pack's figures, as plain data: a verdict, RAG per criterion, changes, gaps, actions, timetable.

RAG, in words a leadership member can check against the gap analysis:

- **red**: an element is forecast at the standard's lowest rating (CSE Non-Compliance, Charter Mark Major
  non-compliance), or a criterion breaks the standard's pass rules (Charter Mark: partial limit, 70% met):
  the assessor would find a failure today;
- **amber**: an element is forecast partial, or is at risk (late workbook, a top rating about to lapse or
  unjustified);

Every rating named here is the standard's own label (``labels(standard)``), never a fixed word.
- **green**: every element ready;
- **grey**: unknown, because the gap analysis has not run.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from reaccreditation.dates import as_date
from reaccreditation.organisation.config import Organisation
from reaccreditation.packs.schedule import CLOSING, READINESS, PackDate, pack_dates
from reaccreditation.packs.sources import Sources
from reaccreditation.standards import LEVELS, Standard

RAG_ORDER = {"grey": -1, "green": 0, "amber": 1, "red": 2}
RAG_WORD = {"red": "Red", "amber": "Amber", "green": "Green", "grey": "Unknown"}
TOP_GAPS = 8


def nice_date(value: Any, weekday: bool = False) -> str:
    """'2027-03-15' -> '15 Mar 2027' (or 'Mon 15 Mar 2027'): how people read dates in an email."""
    if not value:
        return ""
    d = as_date(value)
    return (f"{d:%a} " if weekday else "") + f"{d.day} {d:%b %Y}"


def labels(standard: Standard) -> tuple[str, str, str, str]:
    """The standard's labels for exceeds, meets, partial and fails (e.g. Best Practice ... Major non-compliance)."""
    return tuple(standard.label(level) for level in LEVELS)  # type: ignore[return-value]


def label_names(standard: Standard) -> dict[str, str]:
    """The same, keyed by level, for the templates (``p.labels.partial``)."""
    return dict(zip(LEVELS, labels(standard), strict=True))


def rag_of(standard: Standard, ratings: dict[str, int], at_risk: int, limit_exceeded: bool = False) -> str:
    _, _, PARTIAL, NON = labels(standard)
    if ratings.get(NON, 0) or limit_exceeded:
        return "red"
    if ratings.get(PARTIAL, 0) or at_risk:
        return "amber"
    return "green"


def worst(rags: list[str]) -> str:
    return max(rags, key=RAG_ORDER.__getitem__) if rags else "grey"


def _delta(now: float | int | None, before: float | int | None) -> float | int | None:
    if now is None or before is None:
        return None
    return round(now - before, 2) if isinstance(now, float) or isinstance(before, float) else now - before


def _last_year(org: Organisation, src: Sources) -> int | None:
    years = [o["assessment_year"] for o in src.outcomes if o["assessment_year"] < org.assessment.year]
    return max(years) if years else None


def trend(org: Organisation, src: Sources) -> list[dict[str, Any]]:
    """Outcome counts per past year, this year's outcome if imported, else this year's forecast."""
    RATING_ORDER = labels(org.standard)
    PLUS, _, PARTIAL, NON = RATING_ORDER
    per_year: dict[int, Counter[str]] = {}
    types: dict[int, str] = {}
    for o in src.outcomes:
        per_year.setdefault(o["assessment_year"], Counter())[o["rating"]] += 1
        types[o["assessment_year"]] = o["assessment_type"]
    rows = [
        {
            "year": y,
            "kind": "outcome",
            "type": types[y],
            "ratings": {r: c.get(r, 0) for r in RATING_ORDER},
            "compliance_plus": c.get(PLUS, 0),
            "partials": c.get(PARTIAL, 0) + c.get(NON, 0),
        }
        for y, c in sorted(per_year.items())
    ]
    year = org.assessment.year
    if year not in per_year and src.gaps:
        counts = src.gaps["overall"]["ratings"]
        rows.append(
            {
                "year": year,
                "kind": "forecast",
                "type": org.assessment.type,
                "ratings": {r: counts.get(r, 0) for r in RATING_ORDER},
                "compliance_plus": counts.get(PLUS, 0),
                "partials": counts.get(PARTIAL, 0) + counts.get(NON, 0),
            }
        )
    return rows


def _criteria(org: Organisation, src: Sources, last_year: int | None, elements: set[str] | None = None) -> list[dict[str, Any]]:
    """RAG per criterion (optionally over a department's elements only), with changes."""
    PLUS, _, PARTIAL, NON = labels(org.standard)
    by_element = {e["element_id"]: e for e in src.gaps["elements"]} if src.gaps else {}
    rollups = {c["key"]: c for c in src.gaps["criteria"]} if src.gaps else {}
    last = {o["element_id"]: o["rating"] for o in src.outcomes if o["assessment_year"] == last_year}
    previous = (src.previous or {}).get("criteria", {}) if elements is None else {}
    out = []
    for criterion in org.standard.criteria:
        ids = [e.id for e in criterion.elements if elements is None or e.id in elements]
        if not ids:
            continue
        row: dict[str, Any] = {"key": criterion.id, "title": criterion.title, "elements": len(ids)}
        last_ratings = Counter(last[i] for i in ids if i in last)
        row["last_year"] = (
            {"compliance_plus": last_ratings.get(PLUS, 0), "partials": last_ratings.get(PARTIAL, 0) + last_ratings.get(NON, 0)}
            if last_year
            else None
        )
        if by_element:
            mine = [by_element[i] for i in ids if i in by_element]
            ratings = Counter(e["forecast"] for e in mine)
            roll = rollups.get(criterion.id, {})
            limit = bool(roll.get("partial_limit_exceeded") or roll.get("fails")) if elements is None else False
            row |= {
                "ready": sum(e["readiness"] == "ready" for e in mine),
                "at_risk": sum(e["readiness"] == "at risk" for e in mine),
                "gaps": sum(e["readiness"] == "gap" for e in mine),
                "non_compliance": ratings.get(NON, 0),
                "partials": ratings.get(PARTIAL, 0) + ratings.get(NON, 0),
                "compliance_plus": ratings.get(PLUS, 0),
                "rag": rag_of(org.standard, ratings, sum(e["readiness"] == "at risk" for e in mine), limit),
                "partial_limit_exceeded": limit,
                "fails": list(roll.get("fails") or []) if elements is None else [],
                "max_partials": roll.get("max_partials"),
            }
            row["change_partials_vs_last_year"] = row["partials"] - row["last_year"]["partials"] if row["last_year"] else None
            before = previous.get(criterion.id)
            row["previous_rag"] = before.get("rag") if before else None
            row["change_gaps_since_pack"] = _delta(row["gaps"], before.get("gaps")) if before else None
        else:
            row |= {
                "rag": "grey",
                "ready": None,
                "at_risk": None,
                "gaps": None,
                "non_compliance": None,
                "partials": None,
                "compliance_plus": None,
                "partial_limit_exceeded": False,
                "fails": [],
                "max_partials": None,
                "previous_rag": None,
                "change_gaps_since_pack": None,
                "change_partials_vs_last_year": None,
            }
        row["rag_word"] = RAG_WORD[row["rag"]]
        out.append(row)
    return out


def _element_owners(org: Organisation, element_id: str) -> list[str]:
    return [d.name for d in org.owners(element_id)] or ["Quality team (no owner in the config)"]


def next_pack_date(org: Organisation, today: date) -> date:
    """The next readiness pack after today (leadership reviews open gaps there), else the first day."""
    later = [p.pack_date for p in pack_dates(org) if p.kind == READINESS and p.pack_date > today]
    return later[0] if later else org.assessment.first_day


def due_text(due: str | None, today: date) -> str:
    """A due date as a reader needs it: 'due 20 Feb 2027', 'due today', 'overdue since 24 Jan 2027'."""
    if not due:
        return ""
    when = date.fromisoformat(due[:10])
    if when < today:
        return f"overdue since {nice_date(when)}"
    return "due today" if when == today else f"due {nice_date(when)}"


def top_gaps(
    org: Organisation, src: Sources, department_id: str | None = None, today: date | None = None
) -> list[dict[str, Any]]:
    """One row per element short of the standard's 'meets' rating: the reason, owner and due date; worst first."""
    if not src.gaps:
        return []
    _, _, PARTIAL, NON = labels(org.standard)
    short = {r.label: r.short for r in org.standard.ratings}
    rows: dict[str, dict[str, Any]] = {}
    elements = {e["element_id"]: e for e in src.gaps["elements"]}
    for g in src.gaps["gaps"]:
        if g["severity"] != "gap" or (department_id and g["department_id"] != department_id):
            continue
        row = rows.setdefault(
            g["element_id"],
            {
                "element_id": g["element_id"],
                "title": g["element_title"],
                "forecast": g["forecast"],
                "forecast_short": short.get(g["forecast"], g["forecast"]),
                "reason": g["reason"],
                "reasons": [],
                "owners": [],
                "contacts": [],
                "due_date": g["due_date"],
                "in_focus": g["in_focus"],
                "last_rating": elements.get(g["element_id"], {}).get("last_rating"),
            },
        )
        if g["reason"] not in row["reasons"]:
            row["reasons"].append(g["reason"])
        if g["department"] and g["department"] not in row["owners"]:
            row["owners"].append(g["department"])
        if g["contact"] and g["contact"] not in row["contacts"]:
            row["contacts"].append(g["contact"])
    for row in rows.values():
        row["due_text"] = due_text(row["due_date"], today) if today else f"due {nice_date(row['due_date'])}"
    order = {NON: 0, PARTIAL: 1}
    return sorted(rows.values(), key=lambda r: (order.get(r["forecast"], 2), not r["in_focus"], r["element_id"]))


def not_returned(org: Organisation, src: Sources, today: date) -> list[dict[str, Any]]:
    late = today > org.return_deadline
    return [
        {
            "department_id": d.id,
            "department": d.name,
            "head": d.head.name,
            "head_email": d.head.email,
            "contacts": [f"{p.name} <{p.email}>" for p in d.evidence_contacts],
            "elements": len(d.elements),
            "status": "overdue" if late else "due",
        }
        for d in org.departments
        if d.id not in src.returned
    ]


def evidence_review(org: Organisation, src: Sources) -> dict[str, Any] | None:
    """How far the quality team's review of the current evidence has got, and who has items sent back;
    None before any evidence is registered."""
    from reaccreditation.review.store import ACCEPTED, NEEDS_WORK, NOT_RELEVANT, UNREVIEWED

    if not src.review:
        return None
    total: Counter[str] = Counter()
    for states in src.review.values():
        total.update(states)
    names = {d.id: d.name for d in org.departments}
    back = sorted(
        ((names.get(d, d), states[NEEDS_WORK]) for d, states in src.review.items() if states[NEEDS_WORK]),
        key=lambda r: (-r[1], r[0]),
    )
    count = sum(total.values())
    return {
        "total": count,
        "reviewed": count - total[UNREVIEWED],
        "accepted": total[ACCEPTED],
        "needs_work": total[NEEDS_WORK],
        "not_relevant": total[NOT_RELEVANT],
        "unreviewed": total[UNREVIEWED],
        "sent_back": [{"department": name, "count": n, "label": f"{name} ({n} item{'s' if n != 1 else ''})"} for name, n in back],
    }


def last_year_partials(
    org: Organisation, src: Sources, last_year: int | None, elements: set[str] | None = None
) -> list[dict[str, Any]]:
    """Last year's elements rated below 'meets' (partial or worse), the assessor's action and where it stands now."""
    if last_year is None:
        return []
    _, _, PARTIAL, NON = labels(org.standard)
    now = {e["element_id"]: e for e in src.gaps["elements"]} if src.gaps else {}
    rows = []
    for o in src.outcomes:
        if (
            o["assessment_year"] != last_year
            or o["rating"] not in (PARTIAL, NON)
            or (elements is not None and o["element_id"] not in elements)
        ):
            continue
        e = now.get(o["element_id"])
        codes = {r["code"] for r in e["reasons"]} if e else set()
        if e is None:
            state, rag = "unknown: no gap analysis", "grey"
        elif "open_action" in codes or "no_evidence" in codes:
            state, rag = "open: no evidence dated since the last assessment", "red"
        elif e["readiness"] == "ready":
            state, rag = "addressed: fresh evidence, forecast " + e["forecast"], "green"
        else:
            state, rag = f"in progress: forecast {e['forecast']} ({e['readiness']})", "amber"
        rows.append(
            {
                "element_id": o["element_id"],
                "title": org.standard.element(o["element_id"]).title,
                "rating": o["rating"],
                "action": o.get("action") or "",
                "owners": _element_owners(org, o["element_id"]),
                "state": state,
                "rag": rag,
            }
        )
    return rows


def compliance_plus(org: Organisation, src: Sources, elements: set[str] | None = None) -> dict[str, list[dict[str, Any]]]:
    """Candidates for the top rating (a fresh, justified claim), and last year's top ratings at risk of lapsing."""
    out: dict[str, list[dict[str, Any]]] = {"candidates": [], "lapsing": [], "unjustified": []}
    if not src.gaps:
        return out
    names = {"cplus_candidate": "candidates", "cplus_lapsing": "lapsing", "cplus_unjustified": "unjustified"}
    for e in src.gaps["elements"]:
        if elements is not None and e["element_id"] not in elements:
            continue
        for r in e["reasons"]:
            if r["code"] in names:
                out[names[r["code"]]].append(
                    {
                        "element_id": e["element_id"],
                        "title": e["title"],
                        "owners": _element_owners(org, e["element_id"]),
                        "message": r["message"],
                    }
                )
    return out


def timetable_summary(org: Organisation, src: Sources, department_id: str | None = None) -> dict[str, Any] | None:
    t = src.timetable
    if not t:
        return None
    sessions = [s for s in t["sessions"] if department_id is None or department_id in s["departments"]]
    days = []
    for n, day in enumerate(t["days"], 1):
        mine = sorted((s for s in sessions if s["day"] == n), key=lambda s: s["start"])
        days.append(
            {
                "day": n,
                "date": day,
                "sessions": len(mine),
                "start": mine[0]["start"] if mine else None,
                "end": max(s["end"] for s in mine) if mine else None,
                "agenda": [
                    {
                        "start": s["start"],
                        "end": s["end"],
                        "title": s["title"],
                        "where": s["where"],
                        "people": [m["name"] for m in s["members"]],
                    }
                    for s in mine
                ],
            }
        )
    people: dict[str, dict[str, Any]] = {}
    for s in sessions:
        for m in s["members"]:
            p = people.setdefault(m["email"], {"name": m["name"], "email": m["email"], "sessions": 0})
            p["sessions"] += 1
    leaders = {p.email for p in org.leadership}
    heads = {d.head.email for d in org.departments}
    needed = sorted(
        people.values(), key=lambda p: (p["email"] not in leaders, p["email"] not in heads, -p["sessions"], p["name"])
    )
    return {
        "days": days,
        "sessions": len(sessions),
        "people": len(people),
        "leaders_needed": [p for p in needed if p["email"] in leaders],
        "heads_needed": [p for p in needed if p["email"] in heads and p["email"] not in leaders],
        "needed": needed,
        "departments": len({d for s in sessions for d in s["departments"]}),
        "status": (t.get("solver") or {}).get("status"),
    }


def closing(org: Organisation, src: Sources) -> dict[str, Any] | None:
    """This year's outcome against the forecast of the last snapshot before the assessor arrived."""
    year = org.assessment.year
    actual = {o["element_id"]: o for o in src.outcomes if o["assessment_year"] == year}
    if not actual:
        return None
    forecast = (src.forecast_before or {}).get("forecast", {})
    score = {r.label: r.score for r in org.standard.ratings}
    RATING_ORDER = labels(org.standard)
    _, _, PARTIAL, NON = RATING_ORDER
    rows = []
    for e in org.standard.elements:
        o = actual.get(e.id)
        f = forecast.get(e.id)
        if o is None:
            continue
        verdict = (
            "as forecast"
            if f == o["rating"]
            else (
                "no forecast"
                if f is None
                else ("better than forecast" if score.get(o["rating"], 0) > score.get(f, 0) else "worse than forecast")
            )
        )
        rows.append(
            {
                "element_id": e.id,
                "title": e.title,
                "outcome": o["rating"],
                "forecast": f,
                "verdict": verdict,
                "action": o.get("action") or "",
                "owners": _element_owners(org, e.id),
            }
        )
    counts = Counter(r["outcome"] for r in rows)
    fcounts = Counter(r["forecast"] for r in rows if r["forecast"])
    return {
        "elements": len(rows),
        "outcome": {r: counts.get(r, 0) for r in RATING_ORDER},
        "forecast": {r: fcounts.get(r, 0) for r in RATING_ORDER},
        "as_forecast": sum(r["verdict"] == "as forecast" for r in rows),
        "surprises": [r for r in rows if r["verdict"] not in ("as forecast",)],
        "actions": [r for r in rows if r["outcome"] in (PARTIAL, NON) or r["action"]],
        "forecast_as_of": (src.forecast_before or {}).get("as_of"),
    }


def verdict(standard: Standard, rag: str, overall: dict[str, Any] | None, days_to_go: int) -> str:
    if overall is None:
        return "Readiness unknown: the gap analysis has not run, so no forecast can be given."
    _, MEETS, PARTIAL, NON = labels(standard)
    non = overall["ratings"].get(NON, 0)
    partial = overall["ratings"].get(PARTIAL, 0)
    if rag == "red" and not non:
        return (
            f"Not ready: if the assessor came today, a criterion would fail {standard.name}'s pass rules"
            + (f" ({partial} element{'s' if partial != 1 else ''} {PARTIAL})" if partial else "")
            + f". {days_to_go} days to go."
        )
    if rag == "red":
        return (
            f"Not ready: if the assessor came today, {non} element{'s' if non != 1 else ''} would fail ({NON})"
            + (f" and {partial} would be partial" if partial else "")
            + f". {days_to_go} days to go."
        )
    if rag == "amber":
        bits = [f"{partial} element{'s' if partial != 1 else ''} forecast {PARTIAL}"] if partial else []
        if overall["at_risk"]:
            bits.append(f"{overall['at_risk']} at risk")
        return f"Nearly ready: {' and '.join(bits)}. {days_to_go} days to go."
    return f"Ready: every element is forecast {MEETS} or better. {days_to_go} days to go."


def actions(org: Organisation, pack: dict[str, Any]) -> list[str]:
    """What must happen before the assessor arrives, most urgent first, each with who and by when."""
    out = []
    PLUS, MEETS, _, NON = labels(org.standard)
    gaps = pack["top_gaps"]
    if gaps:
        non = [g for g in gaps if g["forecast"] == NON]
        today, due = date.fromisoformat(pack["today"]), date.fromisoformat(gaps[0]["due_date"][:10])
        nxt = next_pack_date(org, today)
        check = (
            "before the assessor arrives" if nxt == org.assessment.first_day else f"next check at the pack on {nice_date(nxt)}"
        )
        by = f"by {nice_date(due)}" if due > today else f"now ({due_text(gaps[0]['due_date'], today)}; {check})"
        out.append(
            f"Close {len(gaps)} gap{'s' if len(gaps) != 1 else ''} {by}."
            + (
                f" {len(non)} would be {NON} today: {', '.join(g['element_id'] for g in non[:6])}{'…' if len(non) > 6 else ''}."
                if non
                else ""
            )
            + (" Details under Your gaps." if pack.get("department_id") else " Owners are listed under Top gaps.")
        )
    late = pack["not_returned"]
    if late:
        word = "is overdue" if late[0]["status"] == "overdue" else f"is due by {nice_date(org.return_deadline)}"
        names = ", ".join(d["department"] for d in late[:5]) + ("…" if len(late) > 5 else "")
        out.append(
            f"{len(late)} department{'s have' if len(late) != 1 else ' has'} not returned evidence ({names}); the workbook "
            f"{word}."
        )
    open_actions = [p for p in pack["last_year_partials"] if p["rag"] == "red"]
    if open_actions:
        out.append(
            f"Evidence last year's assessor actions on {', '.join(p['element_id'] for p in open_actions)}: nothing dated since "
            "the last assessment."
        )
    cp = pack["compliance_plus"]
    if cp["lapsing"]:
        n = len(cp["lapsing"])
        out.append(
            f"{PLUS}: {n} element{'s' if n != 1 else ''} rated {PLUS} last year {'have' if n != 1 else 'has'} no fresh claim "
            f"and will likely drop to {MEETS} unless the owners send a justified claim "
            f"({', '.join(c['element_id'] for c in cp['lapsing'][:6])}"
            f"{'…' if n > 6 else ''})."
        )
    if cp["unjustified"]:
        n = len(cp["unjustified"])
        out.append(
            f"Add a justification to {n} {PLUS} claim{'s' if n != 1 else ''} or withdraw {'them' if n != 1 else 'it'} "
            f"({', '.join(c['element_id'] for c in cp['unjustified'])})."
        )
    t = pack["timetable"]
    if t and t["sessions"]:
        busy = [d["date"] for d in t["days"] if d["sessions"]] or [t["days"][0]["date"]]
        first, last = busy[0], busy[-1]
        when = nice_date(first, True) if first == last else f"{nice_date(first, True)} to {nice_date(last, True)}"
        out.append(
            f"Keep diaries free: {t['people']} people in {t['sessions']} session{'s' if t['sessions'] != 1 else ''}, {when}"
            + (f", including {', '.join(p['name'] for p in t['leaders_needed'])}" if t["leaders_needed"] else "")
            + "."
        )
    if pack["missing"]:
        out.append("Quality team: run what is listed under Missing from this pack, so the next pack is complete.")
    return out


def gather(org: Organisation, src: Sources, pack_date: PackDate, today: date) -> dict[str, Any]:
    """The leadership pack: every figure the email, the workbook and the next pack's comparison need."""
    year = org.assessment.year
    last_year = _last_year(org, src)
    gaps = src.gaps
    criteria = _criteria(org, src, last_year)
    overall_rag = worst([c["rag"] for c in criteria if c["rag"] != "grey"]) if gaps else "grey"
    if gaps and any(c.get("partial_limit_exceeded") or c.get("fails") for c in criteria):
        overall_rag = "red"
    overall = gaps["overall"] if gaps else None
    prev = src.previous or {}
    prev_overall = prev.get("overall") or {}
    last_trend = next((t for t in reversed(trend(org, src)) if t["kind"] == "outcome" and t["year"] == last_year), None)
    days_to_go = (org.assessment.first_day - today).days
    pack: dict[str, Any] = {
        "organisation": org.organisation.name,
        "short_name": org.organisation.short_name,
        "framework": org.standard.name,
        "framework_short": org.standard.short_name,
        "assessment_year": year,
        "assessment_type": org.assessment.type,
        "first_day": org.assessment.first_day.isoformat(),
        "last_day": org.assessment.last_day.isoformat(),
        "assessor": org.assessment.assessor.name if org.assessment.assessor else None,
        "pack_date": pack_date.pack_date.isoformat(),
        "kind": pack_date.kind,
        "label": pack_date.label,
        "days_before": pack_date.days_before,
        "today": today.isoformat(),
        "days_to_go": days_to_go,
        "return_deadline": org.return_deadline.isoformat(),
        "quality_mailbox": org.quality_team.mailbox,
        "gaps_as_of": gaps["as_of"] if gaps else None,
        "rag": overall_rag,
        "rag_word": RAG_WORD[overall_rag],
        "verdict": verdict(org.standard, overall_rag, overall, days_to_go),
        "labels": label_names(org.standard),
        "forecast_accuracy": gaps.get("forecast_accuracy") if gaps else None,
        "cycle": (gaps or {}).get("cycle") or "",
        "overall": overall,
        "previous": {
            "pack_date": prev.get("pack_date"),
            "label": prev.get("label"),
            "rag": prev.get("rag"),
            "ready": _delta(overall["ready"], prev_overall.get("ready")) if overall else None,
            "gaps": _delta(overall["gaps"], prev_overall.get("gaps")) if overall else None,
            "at_risk": _delta(overall["at_risk"], prev_overall.get("at_risk")) if overall else None,
            "score": _delta(overall["score"], prev_overall.get("score")) if overall else None,
        }
        if prev
        else None,
        "last_year": last_year,
        "last_year_counts": last_trend,
        "criteria": criteria,
        "trend": trend(org, src),
        "top_gaps": top_gaps(org, src, today=today),
        "not_returned": not_returned(org, src, today),
        "evidence_review": evidence_review(org, src),
        "last_year_partials": last_year_partials(org, src, last_year),
        "compliance_plus": compliance_plus(org, src),
        "timetable": timetable_summary(org, src),
        "closing": closing(org, src) if pack_date.kind == CLOSING else None,
        "missing": list(src.missing),
        "elements": gaps["elements"] if gaps else [],
        "gap_rows": gaps["gaps"] if gaps else [],
    }
    pack["actions"] = actions(org, pack)
    return pack


def department_pack(org: Organisation, src: Sources, pack: dict[str, Any], department_id: str, today: date) -> dict[str, Any]:
    """A department head's view: the same pack over the elements the department owns."""
    d = org.department(department_id)
    mine = set(d.elements)
    rollup = next((r for r in (src.gaps or {}).get("departments", []) if r["key"] == department_id), None)
    dept: dict[str, Any] = {
        k: pack[k]
        for k in (
            "organisation",
            "short_name",
            "framework",
            "framework_short",
            "labels",
            "cycle",
            "assessment_year",
            "assessment_type",
            "first_day",
            "last_day",
            "assessor",
            "pack_date",
            "kind",
            "label",
            "days_before",
            "today",
            "days_to_go",
            "return_deadline",
            "quality_mailbox",
            "gaps_as_of",
            "missing",
            "last_year",
        )
    }
    criteria = _criteria(org, src, pack["last_year"], mine)
    rag = worst([c["rag"] for c in criteria]) if src.gaps else "grey"
    dept |= {
        "department_id": d.id,
        "department": d.name,
        "head": d.head.name,
        "rag": rag,
        "rag_word": RAG_WORD[rag],
        "rollup": rollup,
        "criteria": criteria,
        "verdict": verdict(
            org.standard,
            rag,
            {"ratings": rollup["ratings"], "at_risk": rollup["at_risk"]} if rollup else None,
            pack["days_to_go"],
        ),
        "returned": d.id in src.returned,
        "top_gaps": top_gaps(org, src, d.id, today),
        "risks": [
            g
            for g in pack["gap_rows"]
            if g["department_id"] == d.id
            and g["severity"] == "risk"
            and not any(t["element_id"] == g["element_id"] for t in top_gaps(org, src, d.id))
        ],
        "last_year_partials": last_year_partials(org, src, pack["last_year"], mine),
        "compliance_plus": compliance_plus(org, src, mine),
        "timetable": timetable_summary(org, src, d.id),
        "elements": [e for e in pack["elements"] if e["element_id"] in mine],
        "gap_rows": [g for g in pack["gap_rows"] if g["department_id"] == d.id],
        "overall_rag": pack["rag"],
        "overall_rag_word": pack["rag_word"],
        "closing": None,
    }
    if pack["closing"]:
        c = pack["closing"]
        dept["closing"] = c | {
            "surprises": [r for r in c["surprises"] if r["element_id"] in mine],
            "actions": [r for r in c["actions"] if r["element_id"] in mine],
        }
    dept["not_returned"] = [] if dept["returned"] else [r for r in pack["not_returned"] if r["department_id"] == d.id]
    dept["actions"] = actions(org, dept | {"missing": []})
    return dept


def headline(pack: dict[str, Any]) -> dict[str, Any]:
    """What the next pack compares against (stored as a run record)."""
    overall = pack["overall"] or {}
    return {
        "pack_date": pack["pack_date"],
        "kind": pack["kind"],
        "label": pack["label"],
        "rag": pack["rag"],
        "overall": {k: overall.get(k) for k in ("elements", "ready", "at_risk", "gaps", "score", "ready_pct", "compliant_pct")},
        "criteria": {
            c["key"]: {k: c.get(k) for k in ("rag", "ready", "at_risk", "gaps", "partials", "compliance_plus")}
            for c in pack["criteria"]
        },
        "not_returned": len(pack["not_returned"]),
        "missing": pack["missing"],
        "gaps_as_of": pack["gaps_as_of"],
    }
