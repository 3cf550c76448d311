"""Read every configured person's busy times for the assessment days (the facade the planner calls).

Each distinct source (file, address, CalDAV calendar) is read once per call, all of them side by side, each
within its :class:`Budget` (``diaries.max_megabytes`` of answer, ``diaries.deadline_seconds`` in all, a server
silent for ``diaries.timeout_seconds`` given up); whatever fails is reported and the person falls back as
configured.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import date, time
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import httpx

from reaccreditation.timetable.diaries.budget import Budget, seconds
from reaccreditation.timetable.diaries.fetch import clients_quiet, get, host, read_file
from reaccreditation.timetable.diaries.ics import DiaryError, busy_from_ics
from reaccreditation.timetable.diaries.reading import DiaryReading, Interval, clipped
from reaccreditation.timetable.diaries.rules import busy_from_rules, working_hours

if TYPE_CHECKING:
    from reaccreditation.organisation.config import Organisation
    from reaccreditation.timetable.config import Diary, DiarySettings, Person, TimetableConfig

Secrets = Callable[[str], "str | None"]
log = logging.getLogger(__name__)
MAX_PARALLEL = 8  # diaries read at once: each is mostly waiting on a server


def read_diaries(
    tt: TimetableConfig,
    days: Sequence[date],
    tz: ZoneInfo,
    day_start: time,
    day_end: time,
    *,
    config_dir: Path,
    secrets: Secrets = lambda name: None,
) -> DiaryReading:
    """Busy intervals per person of ``tt.people`` within ``day_start``..``day_end`` of each of ``days``.

    A person whose diary was read is busy exactly when the diary says (their typed rules are the fallback);
    one without a diary is busy outside their typed windows (none: never busy). Times are in ``tz``.
    """
    hours = working_hours(days, tz, day_start, day_end)
    if not hours:
        return DiaryReading()
    start, end = hours[0][0], hours[-1][1]
    settings = tt.diaries
    readers: dict[tuple[str, ...], Callable[[Budget], list[Interval]]] = {}
    key_of: dict[str, tuple[str, ...]] = {}
    tls = httpx.create_ssl_context() if any(p.diary and p.diary.ics_url for p in tt.people) else None
    for person in tt.people:
        if person.diary is not None:
            key = _key(person.diary, config_dir)
            key_of[person.email] = key
            readers.setdefault(key, _reader(person.diary, key, start, end, tz, settings.max_bytes, secrets, tls))
    with clients_quiet():
        results = _read_all(readers, settings)
    busy: dict[str, tuple[Interval, ...]] = {}
    source_of: dict[str, str] = {}
    notes: list[str] = []
    for person in tt.people:
        typed = busy_from_rules(person.availability, days, tz, day_start, day_end)
        diary = person.diary
        result = results.get(key_of.get(person.email, ()))
        if diary is None:
            busy[person.email], source_of[person.email] = typed, "typed rules"
        elif not isinstance(result, DiaryError) and result is not None:
            spans = clipped(result, hours)
            busy[person.email] = tuple((a.astimezone(tz), b.astimezone(tz)) for a, b in spans)
            source_of[person.email] = diary.kind
        else:
            problem = result if isinstance(result, DiaryError) else DiaryError("was not read")
            fallback = person.when_unreachable or tt.diaries.when_unreachable
            if fallback == "typed_rules":
                busy[person.email], source_of[person.email] = typed, "typed rules (diary unreachable)"
                assumed = (
                    "planned from their availability typed in the config"
                    if person.availability
                    else ("they have no availability typed in the config, so they are assumed free")
                )
            else:
                busy[person.email], source_of[person.email] = (), "assumed free (diary unreachable)"
                assumed = "assumed free at any time of the assessment"
            notes.append(f"{_who(person)}: {_what(diary, config_dir)} {problem}; {assumed}.")
    for note in notes:
        log.warning("diary not read: %s", note)
    read = sum(1 for s in source_of.values() if s in ("ics file", "ics url", "caldav"))
    log.info("diaries: %d people, %d read from their diaries, %d not reachable", len(tt.people), read, len(notes))
    return DiaryReading(busy=busy, notes=tuple(notes), source_of=source_of)


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


def _key(diary: Diary, config_dir: Path) -> tuple[str, ...]:
    if diary.ics_file is not None:
        return ("ics file", str((config_dir / diary.ics_file).resolve()))
    if diary.ics_url is not None:
        return ("ics url", diary.ics_url)
    assert diary.caldav is not None
    return ("caldav", diary.caldav.url, diary.caldav.username, diary.caldav.password_variable)


def _reader(diary, key, start, end, tz, cap, secrets, tls) -> Callable[[Budget], list[Interval]]:
    if diary.ics_file is not None:
        return lambda budget: busy_from_ics(read_file(Path(key[1]), cap), start, end, tz, max_bytes=cap)
    if diary.ics_url is not None:
        return lambda budget: busy_from_ics(get(diary.ics_url, budget, tls), start, end, tz, max_bytes=cap)

    name = diary.caldav.password_variable
    password = secrets(name)  # here, not in the reader: a secrets backend's first look-up is not the diary's time

    def caldav(budget: Budget) -> list[Interval]:
        from reaccreditation.timetable.diaries.caldav_source import caldav_busy

        if not password:
            raise DiaryError(f"could not be asked: the password variable {name!r} is not set (Airflow: Admin > Variables)")
        return caldav_busy(diary.caldav, password, start, end, tz, budget)

    return caldav


def _read_all(readers: dict, settings: DiarySettings) -> dict:
    """Every reader's intervals or DiaryError, each read within a :class:`Budget` of its own from when it starts.

    The budget cuts a read's connections at its deadline; one stuck where no socket can be cut (a name look-up
    that hangs) is abandoned a little after it."""

    def attempt(reader: Callable[[Budget], list[Interval]]) -> list[Interval] | DiaryError:
        try:
            with Budget(settings.deadline_seconds, settings.max_bytes, settings.timeout_seconds) as allowed:
                return reader(allowed)
        except DiaryError as exc:
            return exc
        except Exception as exc:  # a bug must not stop the plan either; the message never quotes the diary
            log.error("diary reader failed: %s", type(exc).__name__)
            return DiaryError(f"could not be read ({type(exc).__name__})")

    if not readers:
        return {}
    pool = ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, len(readers)), thread_name_prefix="diary")
    try:
        futures = {key: pool.submit(attempt, reader) for key, reader in readers.items()}
        waves = -(-len(readers) // MAX_PARALLEL)
        deadline = settings.deadline_seconds
        wait(futures.values(), timeout=waves * (deadline + 2))
        late = DiaryError(f"was not read within {seconds(deadline)} (timetable.diaries.deadline_seconds): given up")
        return {key: f.result() if f.done() else late for key, f in futures.items()}
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _who(person: Person) -> str:
    return f"{person.name} ({person.email})" if person.name else person.email


def _what(diary: Diary, config_dir: Path) -> str:
    if diary.ics_file is not None:
        return f"the diary file {diary.ics_file}"
    if diary.ics_url is not None:
        return f"the published diary at {host(diary.ics_url)}"
    assert diary.caldav is not None
    return f"the CalDAV calendar at {host(diary.caldav.url)}"
