"""When a pack is due: at or after each pack date (``schedule.packs_days_before``) until it is sent.

Only the latest pack date reached counts: a pipeline that was down over T-23 sends the T-16 pack on
T-16, not both. After the assessment's last day a closing pack is due once that year's outcomes are
imported. Pack dates are working days: a date on a weekend or bank holiday moves to the working day
before (the closing pack to the first working day after the assessment). Decisions are plain data so
the DAG can log them and a test can read them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from reaccreditation.organisation.config import Organisation
from reaccreditation.organisation.working_days import next_working_day

READINESS = "readiness"
CLOSING = "closing"


@dataclass(frozen=True)
class PackDate:
    pack_date: date
    kind: str  # readiness | closing
    days_before: int | None  # None for the closing pack

    @property
    def label(self) -> str:
        if self.kind == CLOSING:
            return "closing pack"
        return f"T-{self.days_before} pack"


def pack_dates(org: Organisation) -> list[PackDate]:
    """Every pack of the season in date order; the closing pack is keyed on the working day after the last day."""
    dates = [PackDate(org.due_date(n), READINESS, n) for n in sorted(set(org.schedule.packs_days_before), reverse=True)]
    closing = next_working_day(org.assessment.last_day + timedelta(days=1), org.nation)
    return dates + [PackDate(closing, CLOSING, None)]


def current_pack(org: Organisation, today: date) -> PackDate | None:
    """The latest pack date on or before ``today`` (None before the first one)."""
    reached = [p for p in pack_dates(org) if p.pack_date <= today]
    return reached[-1] if reached else None


@dataclass(frozen=True)
class Decision:
    due: bool
    reason: str
    pack: PackDate | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if self.pack is not None:
            data["pack"] = {
                "pack_date": self.pack.pack_date.isoformat(),
                "kind": self.pack.kind,
                "days_before": self.pack.days_before,
                "label": self.pack.label,
            }
        return data


def decide(org: Organisation, today: date, *, sent: bool, outcomes_imported: bool) -> Decision:
    """Is a pack due today? ``sent``: every recipient already has the current pack."""
    pack = current_pack(org, today)
    if pack is None:
        first = pack_dates(org)[0]
        return Decision(False, f"no pack before {first.pack_date.isoformat()} ({first.label})")
    if pack.kind == READINESS and org.assessment.first_day <= today:
        return Decision(
            False,
            f"the assessment is under way ({org.assessment.first_day.isoformat()} to "
            f"{org.assessment.last_day.isoformat()}); the closing pack follows the outcomes",
            pack,
        )
    if pack.kind == CLOSING and not outcomes_imported:
        return Decision(
            False, f"closing pack waits for the {org.assessment.year} outcomes to be imported (assessment_history)", pack
        )
    if sent:
        return Decision(False, f"the {pack.label} of {pack.pack_date.isoformat()} was already sent", pack)
    return Decision(True, f"the {pack.label} of {pack.pack_date.isoformat()} is due", pack)
