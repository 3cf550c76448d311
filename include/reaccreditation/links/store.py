"""The last check of each link (``link_check``): rechecked when older than ``FRESH``, read by gaps and the portfolio."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, insert, select

from reaccreditation.db.schema import link_check
from reaccreditation.links.check import LinkResult

FRESH = timedelta(hours=20)  # one check a day: a sweep every few minutes asks the web once


def results(engine: Engine, urls: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
    query = select(link_check)
    wanted = list(dict.fromkeys(urls)) if urls is not None else None
    if wanted is not None:
        query = query.where(link_check.c.url.in_(wanted))
    with engine.connect() as conn:
        return {r.url: dict(r._mapping) for r in conn.execute(query)}


def stale(engine: Engine, urls: Iterable[str], now: datetime) -> list[str]:
    known = results(engine, urls)
    out = []
    for url in dict.fromkeys(urls):
        row = known.get(url)
        checked = row["checked_at"] if row else None
        if checked is not None and checked.tzinfo is None:
            checked = checked.replace(tzinfo=UTC)
        if checked is None or now - checked > FRESH:
            out.append(url)
    return out


def save(engine: Engine, found: dict[str, LinkResult], now: datetime) -> None:
    if not found:
        return
    with engine.begin() as conn:
        conn.execute(delete(link_check).where(link_check.c.url.in_(list(found))))
        conn.execute(
            insert(link_check),
            [
                {"url": r.url, "status": r.status, "detail": r.detail, "http_status": r.http_status, "checked_at": now}
                for r in found.values()
            ],
        )


def broken(engine: Engine) -> dict[str, str]:
    """Link -> what is wrong with it, for every link the last check found broken."""
    with engine.connect() as conn:
        return {r.url: r.detail for r in conn.execute(select(link_check).where(link_check.c.status == "broken"))}
