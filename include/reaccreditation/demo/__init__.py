"""The demo council generator: a realistic fictional borough for the demo run and the tests.

``python -m reaccreditation.demo --out var/demo`` writes ``organisation.yaml`` (the config a quality team
would keep), ``history/outcomes.csv`` (past assessor ratings), ``history/evidence_<year>.csv`` for the
last three years (the evidence register as it stood then; the last one pre-fills this year's workbooks,
all of them let the gap analysis measure its own forecast against the assessor) and ``planted.json``
(what the demo deliberately planted, so later stages can be checked against it, including how often the
forecast should have been right). Output is deterministic for a given first day and seed.
"""

from __future__ import annotations

import csv
import json
import random
import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import yaml

from reaccreditation.standards import load_standard

COUNCIL = Path(__file__).with_name("council.yaml")
FULL_CYCLE = 3  # a full assessment every third year, surveillance visits between
EVIDENCE_YEARS = 3  # past years with an evidence register in the demo history (forecast accuracy)
FALSE_ALARMS = 2  # per year: elements a department self-rated partial that the assessor found met


def _email(name: str, domain: str) -> str:
    local = re.sub(r"[^a-z.]", "", name.lower().replace("cllr ", "").replace(" ", "."))
    return f"{local}@{domain}"


def default_first_day(today: date) -> date:
    """The Monday 18 to 24 days ahead, so today falls in the week of the T-23 readiness pack.

    The demo replays the season so far in the past (requests at T-120 to the T-30 pack, approved by the
    demo quality lead) and leaves today's pack for a newcomer to approve in the UI (``scripts/run --ui``).
    """
    day = today + timedelta(days=18)
    return day + timedelta(days=(7 - day.weekday()) % 7)


def assessment_type(year: int, full_year: int) -> str:
    return "full" if (year - full_year) % FULL_CYCLE == 0 else "surveillance"


def build_config(first_day: date, framework: str = "cse") -> dict[str, Any]:
    spec = yaml.safe_load(COUNCIL.read_text(encoding="utf-8"))
    standard = load_standard(framework)
    domain = spec["organisation"]["domain"]
    year = first_day.year

    def person(entry: dict[str, Any]) -> dict[str, Any]:
        out = {"name": entry["name"], "email": entry.get("email") or _email(entry["name"], domain)}
        if entry.get("role"):
            out["role"] = entry["role"]
        if entry.get("user"):
            out["airflow_user"] = entry["user"]
        return out

    departments = []
    for d in spec["departments"]:
        subs = d["sub_criteria"] if framework == "cse" else d[framework]
        elements = [e.id for e in standard.elements if e.sub_criterion_id in subs]
        departments.append(
            {
                "id": d["id"],
                "name": d["name"],
                "head": {"name": d["head"], "email": _email(d["head"], domain), "role": f"Head of {d['name']}"},
                "evidence_contacts": [{"name": c, "email": _email(c, domain)} for c in d["contacts"]],
                "elements": elements,
            }
        )
    return {
        "organisation": {"name": spec["organisation"]["name"], "short_name": spec["organisation"]["short_name"]},
        "framework": framework,
        "assessment": {
            "first_day": first_day,
            "days": 5,
            "type": assessment_type(year, year - 1),
            "day_start": "09:00",
            "day_end": "17:00",
            "evidence_window_months": 12,
            "assessor": person(spec["assessor"]),
        },
        "schedule": {
            "requests_days_before": 120,
            "reminders_days_before": [90, 60],
            "escalation_days_before": 45,
            "return_days_before": 50,
            "packs_days_before": [30, 23, 16, 9, 3],
        },
        "quality_team": {
            "mailbox": spec["quality_team"]["mailbox"],
            "members": [person(m) for m in spec["quality_team"]["members"]],
        },
        # The demo's mail has no mail server's verdict: From is believed unchecked. Never in a real config.
        "mailbox": {"authentication": {"required": False}},
        # The demo replays a season nobody has reviewed yet: its portfolio also carries unreviewed items (a real
        # config keeps the default, accepted items only; items sent back or not relevant never go in).
        "portfolio": {"include": "accepted_and_unreviewed"},
        "leadership": [person(p) for p in spec["leadership"]],
        "departments": departments,
        "sites": spec["sites"],
        "travel": spec["travel"],
        "timetable": _timetable(spec, domain, framework),
    }


def _timetable(spec: dict[str, Any], domain: str, framework: str = "cse") -> dict[str, Any]:
    """The timetable section: group members from names (and department teams) to name + email; a group's
    ``charter_mark`` list replaces its elements for Charter Mark (whose ids are grouped differently)."""
    tt = dict(spec["timetable"])
    by_id = {d["id"]: d for d in spec["departments"]}
    groups = []
    for g in tt["groups"]:
        g = dict(g)
        cm = g.pop("charter_mark", None)
        if framework == "charter_mark" and cm is not None:
            g["elements"] = cm
        names: list[Any] = []
        if "team_of" in g:
            dept = by_id[g.pop("team_of")]
            names += [dept["head"], *dept["contacts"]]
        if "contacts_of" in g:
            names += by_id[g.pop("contacts_of")]["contacts"]
        names += g.pop("members", [])
        members = [m if isinstance(m, dict) else {"name": m, "email": _email(m, domain)} for m in names]
        groups.append(g | {"members": members})
    people = [
        {k: v for k, v in ({"email": _email(p["name"], domain)} | p).items() if k != "demo_busy"} for p in tt.get("people", ())
    ]
    return tt | {"groups": groups} | ({"people": people} if people else {})


def write_diaries(out: Path, first_day: date, stamp: datetime) -> list[Path]:
    """The demo people's diary files (``timetable.people[].demo_busy``) next to the config, dated for this assessment."""
    from reaccreditation.demo.diaries import busy_ics
    from reaccreditation.organisation.working_days import working_days_from

    spec = yaml.safe_load(COUNCIL.read_text(encoding="utf-8"))
    domain = spec["organisation"]["domain"]
    dates = working_days_from(first_day, 5)
    written = []
    for p in spec["timetable"].get("people", ()):
        if "demo_busy" not in p:
            continue
        path = out / p["diary"]["ics_file"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(busy_ics(p.get("email") or _email(p["name"], domain), p["demo_busy"], dates, stamp))
        written.append(path)
    return written


def build_history(first_day: date, framework: str = "cse", seed: int = 2008) -> list[dict[str, Any]]:
    """Past outcomes per element; the last full assessment was the year before the demo year."""
    spec = yaml.safe_load(COUNCIL.read_text(encoding="utf-8"))["history"]
    standard = load_standard(framework)
    ids = [e.id for e in standard.elements]
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    n = spec["years_before"]
    for i in range(n):
        year = first_day.year - n + i
        plus = set(rng.sample(ids, spec["compliance_plus"][i]))
        partial = set(rng.sample([x for x in ids if x not in plus], spec["partial"][i]))
        for element_id in ids:
            level = "exceeds" if element_id in plus else "partial" if element_id in partial else "meets"
            rating = standard.label(level)
            action = ""
            if element_id in partial:
                action = f"Show how the action plan for {element_id} has been carried out and measured."
            rows.append(
                {
                    "assessment_year": year,
                    "framework": framework,
                    "assessment_type": assessment_type(year, first_day.year - 1),
                    "element_id": element_id,
                    "rating": rating,
                    "action": action,
                }
            )
    return rows


EVIDENCE_HISTORY_FIELDS = (
    "department_id",
    "element_id",
    "title",
    "evidence_type",
    "link",
    "evidence_date",
    "owner",
    "self_rating",
    "cplus_claim",
    "cplus_justification",
    "notes",
    "statement",
)
_TYPES = ("Document", "Data/report", "Minutes", "Survey", "Web page", "Case study")


def _signals(history: list[dict[str, Any]], standard: Any, year: int, rng: random.Random) -> dict[str, str]:
    """What each element's evidence said before that year's desk review: mostly what the assessor then
    found, with a few planted misreadings so the forecast can be measured (see ``planted_accuracy``).

    Returns element id -> ``claim`` (a justified top-rating claim), ``partial`` (self-rated partial) or
    ``meets``. A quarter of the top ratings had no claim (the forecast misses them), one partial looked
    met (missed), and FALSE_ALARMS elements the assessor found met were self-rated partial.
    """
    levels = {r["element_id"]: standard.level_of(r["rating"]) for r in history if r["assessment_year"] == year}
    plus = sorted(e for e, lv in levels.items() if lv == "exceeds")
    partial = sorted(e for e, lv in levels.items() if lv in ("partial", "fails"))
    meets = sorted(e for e, lv in levels.items() if lv == "meets")
    unclaimed = set(rng.sample(plus, max(1, round(len(plus) / 4)) if plus else 0))
    hidden = set(rng.sample(partial, 1 if len(partial) >= 2 else 0))
    alarms = set(rng.sample(meets, min(FALSE_ALARMS, len(meets))))
    out = {}
    for e in levels:
        if e in plus:
            out[e] = "meets" if e in unclaimed else "claim"
        elif e in partial:
            out[e] = "meets" if e in hidden else "partial"
        else:
            out[e] = "partial" if e in alarms else "meets"
    return out


def planted_accuracy(history: list[dict[str, Any]], framework: str, first_day: date, seed: int = 2008) -> dict[str, Any]:
    """The forecast accuracy the demo history should measure, per evidence year (tests check it exactly)."""
    standard = load_standard(framework)
    out = {}
    for year in evidence_years(first_day):
        signals = _signals(history, standard, year, random.Random(seed + year))
        levels = {r["element_id"]: standard.level_of(r["rating"]) for r in history if r["assessment_year"] == year}
        missed_top = sorted(e for e, s in signals.items() if levels[e] == "exceeds" and s != "claim")
        missed_partials = sorted(e for e, s in signals.items() if levels[e] in ("partial", "fails") and s == "meets")
        false_alarms = sorted(e for e, s in signals.items() if levels[e] == "meets" and s == "partial")
        out[str(year)] = {
            "elements": len(signals),
            "exact": len(signals) - len(missed_top) - len(missed_partials) - len(false_alarms),
            "missed_top": missed_top,
            "missed_partials": missed_partials,
            "false_alarms": false_alarms,
        }
    return out


def evidence_years(first_day: date) -> list[int]:
    return [first_day.year - n for n in range(EVIDENCE_YEARS, 0, -1)]


def statement(department: str, element_title: str) -> str:
    """A demo department's short statement of how it meets an element (the workbook's layout version 2 column)."""
    return f"{department}: {element_title.rstrip('.')}. We review this each quarter and report it to the service board."


def build_evidence_history(
    config: dict[str, Any], history: list[dict[str, Any]], seed: int = 2008, year: int | None = None
) -> list[dict[str, Any]]:
    """A past year's accepted evidence register (default: last year's): one or two items per element and owner.

    About one owner in eight sent nothing for an element (another owner did), so the request workbooks
    show both pre-filled and empty rows. Items are dated inside that year's evidence window and before
    its desk review; self-ratings and top-rating claims follow :func:`_signals`.
    """
    standard = load_standard(config["framework"])
    first_day: date = config["assessment"]["first_day"]
    year = first_day.year - 1 if year is None else year
    rng = random.Random(seed + 1 + (first_day.year - 1 - year))
    signals = _signals(history, standard, year, random.Random(seed + year))
    domain = config["quality_team"]["mailbox"].split("@", 1)[1]
    anniversary = first_day.replace(year=year) if not (first_day.month == 2 and first_day.day == 29) else date(year, 2, 28)
    covered: set[str] = set()
    owners: dict[str, list[str]] = {}
    for d in config["departments"]:
        for element_id in d["elements"]:
            owners.setdefault(element_id, []).append(d["id"])
    rows: list[dict[str, Any]] = []
    for d in config["departments"]:
        for element_id in d["elements"]:
            last_owner = owners[element_id][-1] == d["id"]
            if rng.random() < 0.125 and not (last_owner and element_id not in covered):
                continue
            covered.add(element_id)
            element = standard.element(element_id)
            signal = signals.get(element_id, "meets")
            rating = standard.label("partial" if signal == "partial" else "exceeds" if signal == "claim" else "meets")
            for n, title in enumerate(rng.sample(list(element.evidence), k=min(len(element.evidence), rng.choice((1, 1, 2)))), 1):
                kind = rng.choice(_TYPES)
                claim = signal == "claim" and n == 1
                rows.append(
                    {
                        "department_id": d["id"],
                        "element_id": element_id,
                        "title": title,
                        "evidence_type": kind,
                        "link": f"https://intranet.{domain}/evidence/{year}/{d['id']}/{element_id}-{n}",
                        "evidence_date": (anniversary - timedelta(days=rng.randint(25, 330))).isoformat(),
                        "owner": d["evidence_contacts"][0]["name"],
                        "self_rating": rating,
                        "cplus_claim": "Yes" if claim else "No",
                        "cplus_justification": "Shared as exceptional practice with neighbouring councils." if claim else "",
                        "notes": "",
                        "statement": statement(d["name"], element.title) if n == 1 else "",
                    }
                )
    return rows


def write_evidence_history(
    out: Path, config: dict[str, Any], history: list[dict[str, Any]], seed: int = 2008, year: int | None = None
) -> Path:
    """``history/evidence_<year>.csv`` (default last year): what the request stage imports."""
    year = config["assessment"]["first_day"].year - 1 if year is None else year
    path = Path(out) / "history" / f"evidence_{year}.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(EVIDENCE_HISTORY_FIELDS))
        writer.writeheader()
        writer.writerows(build_evidence_history(config, history, seed, year))
    return path


def generate(out: Path, first_day: date, framework: str = "cse", seed: int = 2008) -> dict[str, Path]:
    out = Path(out)
    (out / "history").mkdir(parents=True, exist_ok=True)
    config = build_config(first_day, framework)
    history = build_history(first_day, framework, seed)
    config_path = out / "organisation.yaml"
    header = f"# Demo council generated by `python -m reaccreditation.demo` (first day {first_day}). Fictional.\n"
    header += (
        "# mailbox.authentication.required is false: the demo's mail carries no mail server's verdict, so a\n"
        "# sender's From is believed unchecked. A real config names its mail server's authserv_id instead.\n"
    )
    config_path.write_text(header + yaml.safe_dump(config, sort_keys=False, allow_unicode=True, width=120), encoding="utf-8")
    history_path = out / "history" / "outcomes.csv"
    with history_path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(history[0]))
        writer.writeheader()
        writer.writerows(history)
    last_year = first_day.year - 1
    standard = load_standard(framework)
    last = [r for r in history if r["assessment_year"] == last_year]
    planted = {
        "first_day": first_day.isoformat(),
        "last_year_partials": sorted(r["element_id"] for r in last if standard.level_of(r["rating"]) == "partial"),
        "last_year_compliance_plus": sorted(r["element_id"] for r in last if standard.level_of(r["rating"]) == "exceeds"),
        "forecast_accuracy": planted_accuracy(history, framework, first_day, seed),
    }
    for year in evidence_years(first_day):
        evidence_path = write_evidence_history(out, config, history, seed, year)
    write_diaries(out, first_day, datetime.combine(first_day - timedelta(days=60), time(9), UTC))  # fixed: reproducible
    planted_path = out / "planted.json"
    planted_path.write_text(json.dumps(planted, indent=2) + "\n", encoding="utf-8")
    return {"config": config_path, "history": history_path, "planted": planted_path, "evidence_history": evidence_path}
