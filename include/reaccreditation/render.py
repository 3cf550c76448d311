"""Jinja2 rendering for emails and pages; autoescaped, so names from config or spreadsheets stay text.

Also the organisation's date style for everything people read ("5 March 2027", times in local time with
the zone's abbreviation), shared by templates, workbook text and intake messages.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).with_name("templates")


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "htm", "xml", "j2.html"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["date_long"] = lambda d: f"{d:%A} {d.day} {d:%B %Y}" if d else ""
    env.filters["date_uk"] = lambda d: long_date(d) if d else ""
    env.filters["local_time"] = lambda t: local_time(t) if t else ""
    return env


def long_date(d: date) -> str:
    """The organisation's date style: '5 March 2027' (no leading zero, month in words)."""
    return f"{d.day} {d:%B %Y}"


def local_time(t: datetime) -> str:
    """A moment as the organisation reads it: '5 March 2027, 14:05 GMT' (naive datetimes are UTC)."""
    from reaccreditation.settings import timezone_name

    here = (t if t.tzinfo else t.replace(tzinfo=UTC)).astimezone(ZoneInfo(timezone_name()))
    return f"{long_date(here)}, {here:%H:%M %Z}"


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)
