"""A solved timetable as plain data (no solver types), so the checker and the writers stand alone."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Placement:
    """Where and when one session happens."""

    key: str
    day: int
    start: int  # minutes from midnight
    end: int
    mode: str  # site_visit | face_to_face | virtual
    site: str | None  # None for a virtual session
    room: str | None
    assessor: str  # email
    link: str | None = None  # a virtual session's joining link (timetable.links)

    def same_slot(self, other: Placement) -> bool:
        """Not moved: same time, mode and place (the joining link is compared apart, see ``store``)."""
        return (self.day, self.start, self.end, self.mode, self.site, self.room) == (
            other.day,
            other.start,
            other.end,
            other.mode,
            other.site,
            other.room,
        )


@dataclass(frozen=True)
class LunchBreak:
    assessor: str
    day: int
    start: int
    end: int


@dataclass(frozen=True)
class Timetable:
    placements: tuple[Placement, ...]
    lunches: tuple[LunchBreak, ...] = ()
    status: str = "OPTIMAL"  # OPTIMAL | FEASIBLE
    objective: float = 0.0
    bound: float = 0.0
    seconds: float = 0.0
    moved: tuple[str, ...] = ()  # sessions moved from the previous timetable
    terms: dict[str, int] = field(default_factory=dict)  # the objective, term by term

    @property
    def gap(self) -> float:
        """Relative distance from the best bound the solver proved (0 = proven optimal)."""
        if self.objective == 0:
            return 0.0
        return abs(self.objective - self.bound) / abs(self.objective)

    def placement(self, key: str) -> Placement:
        for p in self.placements:
            if p.key == key:
                return p
        raise KeyError(key)

    def to_dict(self) -> dict[str, Any]:
        return {
            "placements": [asdict(p) for p in self.placements],
            "lunches": [asdict(lb) for lb in self.lunches],
            "status": self.status,
            "objective": self.objective,
            "bound": self.bound,
            "gap": self.gap,
            "seconds": self.seconds,
            "moved": list(self.moved),
            "terms": self.terms,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Timetable:
        return cls(
            placements=tuple(Placement(**p) for p in data["placements"]),
            lunches=tuple(LunchBreak(**lb) for lb in data.get("lunches", ())),
            status=data.get("status", "FEASIBLE"),
            objective=data.get("objective", 0.0),
            bound=data.get("bound", 0.0),
            seconds=data.get("seconds", 0.0),
            moved=tuple(data.get("moved", ())),
            terms=dict(data.get("terms", {})),
        )


class TimetableInfeasible(ValueError):
    """No timetable satisfies the rules; ``reasons`` say which rules conflict, in the quality team's words."""

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__("No timetable fits the rules:\n  - " + "\n  - ".join(reasons))
