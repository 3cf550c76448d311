"""What reading people's diaries gives the planner: busy intervals per email, and what went wrong.

Only start and end times are kept: a diary's titles, descriptions, locations and attendees never reach
this object, so nothing downstream (XCom, logs, the timetable) can show them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

Interval = tuple[datetime, datetime]

SOURCES = (
    "ics file",
    "ics url",
    "caldav",
    "typed rules",
    "typed rules (diary unreachable)",
    "assumed free (diary unreachable)",
)


@dataclass(frozen=True)
class DiaryReading:
    busy: Mapping[str, tuple[Interval, ...]] = field(default_factory=dict)  # lower-case email -> merged, clipped to the days
    notes: tuple[str, ...] = ()  # one plain-English line per person whose source failed: what happened, what was assumed
    source_of: Mapping[str, str] = field(default_factory=dict)  # email -> one of SOURCES

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (ISO 8601 with offsets), for XCom."""
        return {
            "busy": {e: [[a.isoformat(), b.isoformat()] for a, b in spans] for e, spans in self.busy.items()},
            "notes": list(self.notes),
            "source_of": dict(self.source_of),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DiaryReading:
        return cls(
            busy={
                e: tuple((datetime.fromisoformat(a), datetime.fromisoformat(b)) for a, b in spans)
                for e, spans in d.get("busy", {}).items()
            },
            notes=tuple(d.get("notes", ())),
            source_of=dict(d.get("source_of", {})),
        )


def merged(spans: Iterable[Interval]) -> tuple[Interval, ...]:
    """Sorted, overlapping and touching intervals joined, empty ones dropped."""
    out: list[Interval] = []
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if out and start <= out[-1][1]:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return tuple(out)


def clipped(spans: Iterable[Interval], bounds: Iterable[Interval]) -> tuple[Interval, ...]:
    """The parts of ``spans`` inside ``bounds`` (the assessment days' working hours), merged."""
    bounds = list(bounds)
    return merged((max(a, lo), min(b, hi)) for a, b in spans for lo, hi in bounds if a < hi and b > lo)
