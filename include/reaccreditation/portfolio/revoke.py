"""Withdrawing assessors' download links before they expire, and sending the right person a fresh one.

A revocation (``portfolio_revocation``, one row each, never updated: who, when, why) names a year and
a recipient, a version, or both; it voids every link of that year it names that was issued no later than
the revocation (a link's issued-at is signed into its token; a first-format link has none and counts as
earlier; the download checks with ``store.revoked``). Links it does not name keep working, and so does
every link issued after it: :func:`reissue` mails a configured assessor a fresh link for a version already
sent, once for the latest revocation naming them (the outbox's dedupe key carries its id), so a rerun
sends nothing twice.

Revoking leaves the signing key alone: changing it would void every link and every workbook seal.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, insert, select

from reaccreditation.db.schema import outbound_message, portfolio_revocation
from reaccreditation.portfolio import store, token

if TYPE_CHECKING:
    from reaccreditation.mail.outbox import Transport
    from reaccreditation.organisation.config import Organisation

_LINK_KEY = re.compile(r"^portfolio:(\d+):v(\d+):(.+?)(?::reissue:\d+)?$")


class NotRevoked(ValueError):
    """The revocation was refused (it names no link that was sent, or says nothing about who or why)."""


class NotReissued(ValueError):
    """The fresh link was refused (not a configured assessor, a version never sent, its zip gone)."""


def reissue_key(year: int, version: int, email: str, revocation_id: int) -> str:
    return f"{store.dedupe_key(year, version, email)}:reissue:{revocation_id}"


def sent_links(engine: Engine, year: int) -> list[dict[str, Any]]:
    """Every portfolio email of ``year`` the outbox recorded (sent, or possibly sent): version, recipient, key."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(outbound_message.c.dedupe_key, outbound_message.c.status, outbound_message.c.sent_at).where(
                outbound_message.c.dedupe_key.startswith(f"portfolio:{year}:v"),
                outbound_message.c.kind == store.MESSAGE_KIND,
            )
        ).all()
    found = []
    for key, status, sent_at in rows:
        m = _LINK_KEY.match(key)
        if m and status in ("sent", "sending"):
            found.append({"version": int(m[2]), "recipient": m[3], "status": status, "sent_at": sent_at, "key": key})
    return found


def revoke(
    engine: Engine,
    year: int,
    *,
    reason: str,
    by: str,
    contact: str,
    recipient: str | None = None,
    version: int | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Record a revocation; returns it with ``links``, the sent emails whose links it voids.

    Refused (:class:`NotRevoked`) without a reason or a name, without a recipient or a version, and when it
    would name no link that was ever sent (a mistyped address or version would otherwise look revoked)."""
    reason, by, contact = (reason or "").strip(), (by or "").strip(), (contact or "").strip()
    if not reason or not by:
        raise NotRevoked("say why (--reason) and who you are (--by): both are kept with the revocation")
    recipient = (recipient or "").strip().lower() or None  # a blank address names nobody, never everybody
    if recipient is None and version is None:
        raise NotRevoked("name a recipient (--to), a version (--version) or both")
    links = [
        link
        for link in sent_links(engine, year)
        if (recipient is None or link["recipient"] == recipient) and (version is None or link["version"] == version)
    ]
    if not links:
        who = recipient or "anyone"
        which = f"version {version}" if version is not None else "any version"
        raise NotRevoked(f"no portfolio link for {year} {which} was sent to {who}: nothing to revoke (check the address)")
    values = {
        "assessment_year": year,
        "version": version,
        "recipient": recipient,
        "reason": reason[:2000],
        "revoked_by": by[:250],
        "contact": contact[:254],
        "revoked_at": now or datetime.now(UTC),
    }
    with engine.begin() as conn:
        new_id = conn.execute(insert(portfolio_revocation).values(**values)).inserted_primary_key[0]
    return values | {"id": new_id, "links": links}


def revocations(engine: Engine, year: int) -> list[dict[str, Any]]:
    t = portfolio_revocation
    with engine.connect() as conn:
        rows = conn.execute(select(t).where(t.c.assessment_year == year).order_by(t.c.id))
        return [dict(r._mapping) | {"revoked_at": store.utc(r.revoked_at)} for r in rows]


def reissue(
    org: Organisation,
    engine: Engine,
    transport: Transport,
    *,
    recipient: str,
    signing_key: bytes,
    base_url: str,
    by: str,
    version: int | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Mail a configured assessor a fresh link for a version already sent (default: the latest one), once.

    The email is the version's own (index and workbook attached), saying it is a new link. Its dedupe key
    names the latest revocation applying to that recipient and version (0: none), so a rerun sends
    nothing, and a later revocation followed by another reissue sends again. Refused
    (:class:`NotReissued`) for an address that is not one of the config's assessors, a version the
    quality lead never approved and sent, or a version whose zip is no longer kept."""
    from reaccreditation.mail.outbox import send_once
    from reaccreditation.portfolio import pipeline

    if not (by or "").strip():
        raise NotReissued("say who you are (--by): it is kept in the outbox with the email")
    now = now or datetime.now(UTC)
    year = org.assessment.year
    people = {email.lower(): (name, email) for name, email in pipeline.assessors(org)}
    if recipient.strip().lower() not in people:
        raise NotReissued(
            f"{recipient} is not an assessor in the config (timetable.assessors, else assessment.assessor): "
            "put the right address there first"
        )
    name, email = people[recipient.strip().lower()]
    sent = store.sent_versions(engine, year)
    if version is None:
        if not sent:
            raise NotReissued(f"no portfolio version of {year} was ever sent: there is no link to reissue")
        version = max(sent)
    if version not in sent:
        raise NotReissued(f"portfolio {year} version {version} was never approved and sent: it cannot be reissued")
    record = store.version(engine, year, version)
    if record is None or not Path(record["zip_path"]).is_file():
        raise NotReissued(f"the zip of portfolio {year} version {version} is no longer kept")
    against = store.revocations_naming(engine, year, version, email)
    key = reissue_key(year, version, email, against[-1]["id"] if against else 0)
    built = pipeline._describe(org, engine, record, Path(record["zip_path"]).parent)
    expires = token.expiry(org.assessment.last_day, org.portfolio.download_days_after)
    grant = token.Grant(year, version, email, int(expires.timestamp()), store.issue_time(engine, year, version, email, now))
    link = pipeline.download_link(signing_key, base_url, grant)
    msg = pipeline.assessor_message(org, built, name, email, link, expires, reissued=True)
    done = send_once(
        engine,
        transport,
        msg,
        dedupe_key=key,
        assessment_year=year,
        kind=store.MESSAGE_KIND,
        attachment=built["zip"],
        run_id=f"reissued by {by}"[:255],
    )
    return {"sent": done, "version": version, "to": email, "dedupe_key": key}
