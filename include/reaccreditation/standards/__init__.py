"""The service standards (CSE, Charter Mark) as data: loaded from versioned YAML and checked.

The YAML files beside this module are the source of truth; this module only reads and validates them,
so a broken edit fails loudly with the file and the id at fault.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

STANDARDS_DIR = Path(__file__).parent


class StandardError(ValueError):
    """A standard file that does not describe a well-formed standard."""


@dataclass(frozen=True)
class Rating:
    id: str
    label: str
    short: str
    score: int


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
        key = label_or_id.strip().lower()
        for r in self.ratings:
            if key in (r.id, r.label.lower(), r.short.lower()):
                return r
        raise KeyError(f"unknown rating {label_or_id!r}")


def available() -> list[str]:
    """Ids of the standards shipped with the project."""
    return sorted(p.stem for p in STANDARDS_DIR.glob("*.yaml"))


@cache
def load_standard(standard_id: str) -> Standard:
    """Load and validate one standard by id (``cse``, ``charter_mark``)."""
    path = STANDARDS_DIR / f"{standard_id}.yaml"
    if not path.is_file():
        raise StandardError(f"unknown standard {standard_id!r}; available: {', '.join(available())}")
    return parse_standard(yaml.safe_load(path.read_text(encoding="utf-8")), source=path.name)


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

    ratings = tuple(
        Rating(str(r["id"]), str(r["label"]), str(r["short"]), int(r["score"]))
        for r in _require(data, "ratings", "top level", source)
    )
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
        max_partials = c.get("max_partials")
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
    )
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
