"""What the download link does, without the web framework: check the token, find the bundle, log the request.

Every request is logged (``portfolio_download``), served or not: ``served``, ``expired`` (a genuine
link past its date), ``revoked`` (a genuine link the quality team withdrew: ``portfolio_revocation``, ``portfolio.revoke``),
``refused`` (altered, truncated or not ours) or ``missing`` (a genuine link to a version whose zip is
gone). The refusals say in words what to do; they never say which part was wrong, nor why a link was
withdrawn (the reason is the quality team's record, not the page's).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from reaccreditation.portfolio import store, token

ASK = "Reply to the email the link came in and the quality team will send a new one."


@dataclass(frozen=True)
class Answer:
    status: int  # the HTTP status
    outcome: str  # served | expired | revoked | refused | missing
    message: str
    path: Path | None = None
    filename: str | None = None


def withdrawn_text(revocation: dict) -> str:
    """What a withdrawn link's page says: when, by whom (the quality team, never a name), whom to ask."""
    from zoneinfo import ZoneInfo

    from reaccreditation.render import long_date
    from reaccreditation.settings import timezone_name

    when = revocation["revoked_at"].astimezone(ZoneInfo(timezone_name()))
    return (
        f"This download link was withdrawn on {long_date(when)} by the quality team. Ask {revocation['contact']} for a new one."
    )


def _found(engine: Engine, grant: token.Grant) -> Answer:
    record = store.version(engine, grant.assessment_year, grant.version)
    path = Path(record["zip_path"]) if record else None
    if path is None or not path.is_file():
        return Answer(404, "missing", f"The portfolio this link names is no longer kept. {ASK}")
    return Answer(200, "served", f"portfolio {grant.assessment_year} version {grant.version}", path, path.name)


def answer(
    engine: Engine, key: bytes, raw: str, now: datetime, *, client: str | None = None, user_agent: str | None = None
) -> Answer:
    grant: token.Grant | None = None
    try:
        grant = token.verify(key, raw, now)
    except token.ExpiredToken as exc:
        grant = exc.grant
        result = Answer(410, "expired", f"This download link has expired: {exc}. {ASK}")
    except token.BadToken as exc:
        result = Answer(403, "refused", f"This download link does not work: {exc}. {ASK}")
    else:
        withdrawn = store.revoked(engine, grant)
        if withdrawn is not None:
            result = Answer(410, "revoked", withdrawn_text(withdrawn))
        else:
            result = _found(engine, grant)
    store.log_download(
        engine,
        assessment_year=grant.assessment_year if grant else None,
        version=grant.version if grant else None,
        recipient=grant.recipient if grant else None,
        outcome=result.outcome,
        detail=result.message[:500],
        token_sha256=token.digest(raw),
        client=(client or "")[:100] or None,
        user_agent=(user_agent or "")[:500] or None,
    )
    return result
