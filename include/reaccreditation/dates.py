"""Dates as they come back from XCom, JSON and the database (ISO strings, datetimes, dates)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any


def as_date(value: Any) -> date | None:
    """A date from a date, a datetime or an ISO string (its first ten characters); None for None or "".

    Raises ValueError for other text: a wrong date in our own files is a bug to see, not to hide.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def with_dates(value: Any) -> Any:
    """A JSON-like structure with every ``YYYY-MM-DD`` string turned back into a date (XCom carries text)."""
    if isinstance(value, dict):
        return {k: with_dates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [with_dates(v) for v in value]
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    return value
