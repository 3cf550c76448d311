"""The last check of each link (``link_check``): rechecked when older than ``FRESH``, read by gaps and the portfolio."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, insert, select

from reaccreditation.db.schema import link_check
from reaccreditation.links.check import LinkResult

FRESH = timedelta(hours=20)  # one check a day: a sweep every few minutes asks the web once


CHUNK = 900  # links per IN (...): well inside SQLite's and PostgreSQL drivers' bound-parameter limits


def results(engine: Engine, urls: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
    if urls is None:
        with engine.connect() as conn:
            return {r.url: dict(r._mapping) for r in conn.execute(select(link_check))}
    wanted = list(dict.fromkeys(urls))
    out: dict[str, dict[str, Any]] = {}
    with engine.connect() as conn:
        for i in range(0, len(wanted), CHUNK):
            query = select(link_check).where(link_check.c.url.in_(wanted[i : i + CHUNK]))
            out.update((r.url, dict(r._mapping)) for r in conn.execute(query))
    return out


def stale(engine: Engine, urls: Iterable[str], now: datetime) -> list[str]:
    urls = list(urls)
    return due(results(engine, urls), urls, now)


def due(known: dict[str, dict[str, Any]], urls: Iterable[str], now: datetime) -> list[str]:
    """The links among ``urls`` with no result in ``known`` (``results``) or one older than ``FRESH``."""
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
        urls = list(found)
        for i in range(0, len(urls), CHUNK):
            conn.execute(delete(link_check).where(link_check.c.url.in_(urls[i : i + CHUNK])))
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
