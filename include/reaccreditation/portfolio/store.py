"""The portfolio's versions (``portfolio_version``), its download log (``portfolio_download``) and which links
the quality team withdrew (``portfolio_revocation``, written by ``portfolio.revoke``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, insert, or_, select

from reaccreditation.db.schema import outbound_message, portfolio_download, portfolio_revocation, portfolio_version
from reaccreditation.portfolio import token

MESSAGE_KIND = "portfolio"


def dedupe_key(year: int, version: int, email: str) -> str:
    return f"portfolio:{year}:v{version}:{email.lower()}"


def versions(engine: Engine, year: int) -> list[dict[str, Any]]:
    t = portfolio_version
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(t).where(t.c.assessment_year == year).order_by(t.c.version))]


def version(engine: Engine, year: int, number: int) -> dict[str, Any] | None:
    return next((v for v in versions(engine, year) if v["version"] == number), None)


def sent_versions(engine: Engine, year: int) -> set[int]:
    """The versions at least one assessor email went out for."""
    prefix = f"portfolio:{year}:v"
    with engine.connect() as conn:
        keys = conn.execute(
            select(outbound_message.c.dedupe_key).where(
                outbound_message.c.dedupe_key.startswith(prefix), outbound_message.c.status == "sent"
            )
        ).scalars()
        return {int(k[len(prefix) :].split(":", 1)[0]) for k in keys}


def record_version(engine: Engine, values: dict[str, Any]) -> dict[str, Any]:
    """Keep a version (number given); a rebuild of a number already kept replaces nothing and returns the first."""
    existing = version(engine, values["assessment_year"], values["version"])
    if existing is not None:
        return existing
    with engine.begin() as conn:
        conn.execute(insert(portfolio_version).values(created_at=datetime.now(UTC), **values))
    found = version(engine, values["assessment_year"], values["version"])
    assert found is not None
    return found


def next_number(engine: Engine, year: int) -> int:
    with engine.connect() as conn:
        top = conn.execute(
            select(func.max(portfolio_version.c.version)).where(portfolio_version.c.assessment_year == year)
        ).scalar()
    return int(top or 0) + 1


def log_download(engine: Engine, **values: Any) -> None:
    with engine.begin() as conn:
        conn.execute(insert(portfolio_download).values(requested_at=datetime.now(UTC), **values))


def downloads(engine: Engine, year: int | None = None) -> list[dict[str, Any]]:
    t = portfolio_download
    query = select(t).order_by(t.c.id)
    if year is not None:
        query = query.where(t.c.assessment_year == year)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def utc(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)  # SQLite hands timezone-aware columns back naive (UTC)


def _applies(year: int, version: int, recipient: str):  # type: ignore[no-untyped-def]
    t = portfolio_revocation.c
    return (
        (t.assessment_year == year)
        & or_(t.version.is_(None), t.version == version)
        & or_(t.recipient.is_(None), t.recipient == recipient.lower())
    )


def revocations_naming(engine: Engine, year: int, version: int, recipient: str) -> list[dict[str, Any]]:
    """The revocations naming this year, version and recipient, oldest first."""
    t = portfolio_revocation
    with engine.connect() as conn:
        rows = conn.execute(select(t).where(_applies(year, version, recipient)).order_by(t.c.revoked_at, t.c.id))
        return [dict(r._mapping) | {"revoked_at": utc(r.revoked_at)} for r in rows]


def revoked(engine: Engine, grant: token.Grant) -> dict[str, Any] | None:
    """The first revocation that voids this genuine link, or None when it is not revoked."""
    for row in revocations_naming(engine, grant.assessment_year, grant.version, grant.recipient):
        if grant.issued_at is None or grant.issued_at <= token.millis(row["revoked_at"]):
            return row
    return None


def issue_time(engine: Engine, year: int, version: int, recipient: str, now: datetime) -> int:
    """The issued-at (Unix ms) for a new link: now, but always after every revocation already naming it
    (a link issued in the same millisecond as a revocation would otherwise be void)."""
    latest = [token.millis(r["revoked_at"]) for r in revocations_naming(engine, year, version, recipient)]
    return max([token.millis(now)] + [ms + 1 for ms in latest])
