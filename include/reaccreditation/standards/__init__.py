"""The service standards (CSE, Charter Mark) as data: loaded from versioned YAML and checked.

The YAML files beside this module are the source of truth; this module only reads and validates them,
so a broken edit fails loudly with the file and the id at fault. Each file carries its own rating scale
(Charter Mark's bands are not CSE's) and its own pass rules; code refers to a rating by its *level*
(exceeds, meets, partial, fails), never by a label, so every message uses the standard's own words.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

STANDARDS_DIR = Path(__file__).parent


class StandardError(ValueError):
    """A standard file that does not describe a well-formed standard."""


# What a rating means, whatever the standard calls it: above the standard, meets it, partly, not at all.
EXCEEDS, MEETS, PARTIAL, FAILS = "exceeds", "meets", "partial", "fails"
LEVELS = (EXCEEDS, MEETS, PARTIAL, FAILS)


@dataclass(frozen=True)
class Rating:
    id: str
    label: str
    short: str
    score: int
    level: str  # one of LEVELS
    meaning: str = ""  # what the rating means, in our words (workbook cover sheet)

    @property
    def met(self) -> bool:
        """Counts as met for a pass rule (meets or exceeds the element)."""
        return self.level in (EXCEEDS, MEETS)


@dataclass(frozen=True)
class PassRules:
    """What a criterion needs to pass at assessment, as the standard's file states it.

    ``min_share_met``: the least share of a criterion's elements rated met (None: no such rule);
    ``forbidden``: rating ids of which a single one fails the criterion; the per-criterion partial
    limits are on each :class:`Criterion` (``max_partials``).
    """

    min_share_met: float | None = None
    forbidden: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class CriterionCheck:
    """One pass rule a criterion breaks, with a sentence a quality lead can act on."""

    code: str  # partial_limit | min_share_met | forbidden_rating
    message: str


@dataclass(frozen=True)
class Element:
    id: str
    title: str
    asks: str
    evidence: tuple[str, ...]
    sub_criterion_id: str
    criterion_id: str


@dataclass(frozen=True)
class SubCriterion:
    id: str
    title: str
    elements: tuple[Element, ...]


@dataclass(frozen=True)
class Criterion:
    id: str
    title: str
    summary: str
    max_partials: int | None
    sub_criteria: tuple[SubCriterion, ...]

    @property
    def elements(self) -> tuple[Element, ...]:
        return tuple(e for s in self.sub_criteria for e in s.elements)


@dataclass(frozen=True)
class Standard:
    id: str
    name: str
    short_name: str
    introduced: int
    ratings: tuple[Rating, ...]
    criteria: tuple[Criterion, ...]
    pass_rules: PassRules = PassRules()
    _by_id: dict[str, Element] = field(default_factory=dict, compare=False, repr=False)

    @property
    def sub_criteria(self) -> tuple[SubCriterion, ...]:
        return tuple(s for c in self.criteria for s in c.sub_criteria)

    @property
    def elements(self) -> tuple[Element, ...]:
        return tuple(e for c in self.criteria for e in c.elements)

    def element(self, element_id: str) -> Element:
        try:
            return self._by_id[element_id]
        except KeyError:
            raise KeyError(f"{self.short_name} has no element {element_id!r}") from None

    def has_element(self, element_id: str) -> bool:
        return element_id in self._by_id

    def criterion(self, criterion_id: str) -> Criterion:
        for c in self.criteria:
            if c.id == criterion_id:
                return c
        raise KeyError(f"{self.short_name} has no criterion {criterion_id!r}")

    def rating(self, label_or_id: str) -> Rating:
        """A rating by its id, label or short form, in any case."""
        key = " ".join(label_or_id.split()).lower()
        for r in self.ratings:
            if key in (r.id, r.label.lower(), r.short.lower()):
                return r
        raise KeyError(f"unknown {self.short_name} rating {label_or_id!r}; expected one of {', '.join(self.labels)}")

    def find_rating(self, text: str | None) -> Rating | None:
        """Like :meth:`rating`, but None for an empty or unknown text."""
        if not text:
            return None
        try:
            return self.rating(text)
        except KeyError:
            return None

    def level(self, level: str) -> Rating:
        """The rating at a level (``exceeds``, ``meets``, ``partial``, ``fails``) on this standard's scale."""
        for r in self.ratings:
            if r.level == level:
                return r
        raise KeyError(f"{self.short_name} has no rating at level {level!r}")

    def label(self, level: str) -> str:
        """The standard's own label for a level: 'Compliance Plus' for CSE, 'Best Practice' for Charter Mark."""
        return self.level(level).label

    @property
    def labels(self) -> tuple[str, ...]:
        """Rating labels, best first (the choices a workbook offers)."""
        return tuple(r.label for r in self.ratings)

    def level_of(self, text: str | None) -> str | None:
        """The level of a rating written any way the standard knows; None for empty or unknown."""
        r = self.find_rating(text)
        return r.level if r else None

    def check_criterion(self, criterion: Criterion, ratings: Iterable[str]) -> list[CriterionCheck]:
        """The pass rules a criterion breaks given one rating (label, id or short form) per element."""
        found = [self.rating(r) for r in ratings]
        n = len(found)
        out: list[CriterionCheck] = []
        partial = sum(r.level == PARTIAL for r in found)
        name = f"Criterion {criterion.id}"
        if criterion.max_partials is not None and partial > criterion.max_partials:
            out.append(
                CriterionCheck(
                    "partial_limit",
                    f"{name} has {partial} {self.label(PARTIAL)}; {self.name} allows at most {criterion.max_partials}",
                )
            )
        rules = self.pass_rules
        met = sum(r.met for r in found)
        if rules.min_share_met is not None and n and met < rules.min_share_met * n - 1e-9:
            out.append(
                CriterionCheck(
                    "min_share_met",
                    f"{name} has {met} of {n} elements met ({100 * met / n:.0f}%); "
                    f"{self.name} needs at least {100 * rules.min_share_met:.0f}% in every criterion",
                )
            )
        for rating_id in rules.forbidden:
            bad = sum(r.id == rating_id for r in found)
            if bad:
                out.append(
                    CriterionCheck(
                        "forbidden_rating",
                        f"{name} has {bad} {self.rating(rating_id).label}; a single one fails the criterion under {self.name}",
                    )
                )
        return out


def available() -> list[str]:
    """Ids of the standards shipped with the project."""
    return sorted(p.stem for p in STANDARDS_DIR.glob("*.yaml"))


@cache
def load_standard(standard_id: str) -> Standard:
    """Load and validate one standard by id (``cse``, ``charter_mark``)."""
    path = STANDARDS_DIR / f"{standard_id}.yaml"
    if not path.is_file():
        raise StandardError(f"unknown standard {standard_id!r}; available: {', '.join(available())}")
    # libyaml's safe loader when PyYAML has it: the same documents, ~9x faster (every task loads a standard)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return parse_standard(yaml.load(path.read_text(encoding="utf-8"), Loader=loader), source=path.name)


def _require(mapping: Any, key: str, where: str, source: str) -> Any:
    if not isinstance(mapping, dict) or key not in mapping or mapping[key] in (None, ""):
        raise StandardError(f"{source}: {where}: missing '{key}'")
    return mapping[key]


def parse_standard(data: dict[str, Any], source: str = "<standard>") -> Standard:
    """Build a :class:`Standard` from parsed YAML, checking ids, nesting and declared counts."""
    seen: dict[str, str] = {}

    def claim(item_id: str, where: str) -> str:
        item_id = str(item_id)
        if item_id in seen:
            raise StandardError(f"{source}: {where}: id {item_id!r} is used twice (also at {seen[item_id]})")
        seen[item_id] = where
        return item_id

    ratings = _ratings(_require(data, "ratings", "top level", source), source)
    rules_data = data.get("pass_rules") or {}
    if not isinstance(rules_data, dict):
        raise StandardError(f"{source}: pass_rules: expected a mapping")
    limits = {str(k): int(v) for k, v in (rules_data.get("partial_limits") or {}).items()}
    ids = {r.id for r in ratings}
    forbidden = tuple(str(x) for x in rules_data.get("forbidden") or ())
    for rating_id in forbidden:
        if rating_id not in ids:
            raise StandardError(f"{source}: pass_rules.forbidden: {rating_id!r} is not a rating id ({', '.join(sorted(ids))})")
    share = rules_data.get("min_share_met")
    if share is not None and not 0 < float(share) <= 1:
        raise StandardError(f"{source}: pass_rules.min_share_met: {share!r} is not a share between 0 and 1")
    pass_rules = PassRules(None if share is None else float(share), forbidden, str(rules_data.get("note") or ""))
    criteria: list[Criterion] = []
    for ci, c in enumerate(_require(data, "criteria", "top level", source)):
        cwhere = f"criteria[{ci}]"
        cid = claim(_require(c, "id", cwhere, source), cwhere)
        subs: list[SubCriterion] = []
        for si, s in enumerate(_require(c, "sub_criteria", f"criterion {cid}", source)):
            swhere = f"criterion {cid} sub_criteria[{si}]"
            sid = claim(_require(s, "id", swhere, source), swhere)
            if not sid.startswith(cid + "."):
                raise StandardError(f"{source}: sub-criterion {sid} is filed under criterion {cid}")
            elements: list[Element] = []
            for ei, e in enumerate(_require(s, "elements", f"sub-criterion {sid}", source)):
                ewhere = f"sub-criterion {sid} elements[{ei}]"
                eid = claim(_require(e, "id", ewhere, source), ewhere)
                if not eid.startswith(sid + "."):
                    raise StandardError(f"{source}: element {eid} is filed under sub-criterion {sid}")
                elements.append(
                    Element(
                        id=eid,
                        title=str(_require(e, "title", f"element {eid}", source)),
                        asks=str(_require(e, "asks", f"element {eid}", source)),
                        evidence=tuple(str(x) for x in e.get("evidence") or ()),
                        sub_criterion_id=sid,
                        criterion_id=cid,
                    )
                )
            subs.append(SubCriterion(sid, str(_require(s, "title", f"sub-criterion {sid}", source)), tuple(elements)))
        max_partials = limits.pop(cid, None)
        criteria.append(
            Criterion(
                id=cid,
                title=str(_require(c, "title", f"criterion {cid}", source)),
                summary=str(c.get("summary") or ""),
                max_partials=None if max_partials is None else int(max_partials),
                sub_criteria=tuple(subs),
            )
        )
    standard = Standard(
        id=str(_require(data, "id", "top level", source)),
        name=str(_require(data, "name", "top level", source)),
        short_name=str(data.get("short_name") or data["name"]),
        introduced=int(data.get("introduced") or 0),
        ratings=ratings,
        criteria=tuple(criteria),
        pass_rules=pass_rules,
    )
    if limits:
        raise StandardError(f"{source}: pass_rules.partial_limits: no criterion {', '.join(sorted(limits))}")
    standard._by_id.update({e.id: e for e in standard.elements})
    declared = data.get("counts") or {}
    actual = {
        "criteria": len(standard.criteria),
        "sub_criteria": len(standard.sub_criteria),
        "elements": len(standard.elements),
    }
    for key, value in declared.items():
        if actual.get(key) != value:
            raise StandardError(f"{source}: declares {value} {key} but defines {actual.get(key)}")
    return standard


def _ratings(raw: Any, source: str) -> tuple[Rating, ...]:
    """The scale, best first; every level exactly once, so code can ask for 'the partial rating'."""
    out = []
    for i, r in enumerate(raw):
        where = f"ratings[{i}]"
        level = str(_require(r, "level", where, source))
        if level not in LEVELS:
            raise StandardError(f"{source}: {where}: level {level!r} is not one of {', '.join(LEVELS)}")
        out.append(
            Rating(
                str(_require(r, "id", where, source)),
                str(_require(r, "label", where, source)),
                str(_require(r, "short", where, source)),
                int(r.get("score", -1)),
                level,
                str(r.get("meaning") or ""),
            )
        )
    levels = [r.level for r in out]
    if sorted(levels, key=LEVELS.index) != list(LEVELS) or levels != list(LEVELS):
        raise StandardError(f"{source}: ratings: expected one rating per level, best first ({', '.join(LEVELS)})")
    scores = [r.score for r in out]
    if scores != sorted(scores, reverse=True) or len(set(scores)) != len(scores):
        raise StandardError(f"{source}: ratings: scores must fall strictly from the best rating to the worst")
    return tuple(out)
