"""Withdrawing assessors' download links, attacked: a revoked link is refused in words (410) while the other
recipient's still serves; a revoked link with a later issued-at written into it is refused by its signature;
links already sent in the first format keep working unless revoked; the revocation is made by the CLI in
another process and read from the project database; a reissued link serves, and a rerun of the reissue
sends nothing twice (the real SMTP sink counts)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import os
import re
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
import yaml

from reaccreditation.db import make_engine
from reaccreditation.orchestration.connections import smtp_transport
from reaccreditation.organisation.config import load_organisation
from reaccreditation.portfolio import pipeline, revoke, store, token
from reaccreditation.settings import data_paths

from ..conftest import DEMO_SIGNING_KEY
from .test_portfolio_dag import _download_app

KEY = DEMO_SIGNING_KEY.encode()  # what the download app reads (AIRFLOW_VAR_REACCREDITATION_SIGNING_KEY)
ALAN = "alan.wicks@northfield-cert.example.com"
BETH = "beth.osei@northfield-cert.example.com"
CARL = "carl.moss@northfield-cert.example.com"


def _cli(*args: str, process: bool = False) -> subprocess.CompletedProcess:
    """``python -m reaccreditation.portfolio``: in its own process (the tests' connections and config) when
    ``process``, else its ``main`` here (the same code, without Airflow's import time)."""
    if process:
        command = [sys.executable, "-m", "reaccreditation.portfolio", *args]
        return subprocess.run(command, capture_output=True, text=True, env=os.environ.copy(), timeout=300)
    from reaccreditation.portfolio.__main__ import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(args))
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


def _assessors(config, people) -> None:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(config.read_text())
    data["timetable"]["assessors"] = [{"name": n, "email": e} for n, e in people]
    config.write_text(yaml.safe_dump(data, sort_keys=False))


def _tokens(outbox) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    """Each recipient's download tokens, in the order the emails were read."""
    found: dict[str, list[str]] = {}
    for m in outbox.messages():
        text = m.get_body(("plain",)).get_content()
        link = re.search(r"(https?://\S+/portfolio/download\?token=\S+)", text).group(1)
        found.setdefault(m["To"].addresses[0].addr_spec, []).append(parse_qs(urlsplit(link).query)["token"][0])
    return found


def _v1(grant: token.Grant) -> str:
    """A link in the first format, as mailed before issued-at existed (the v1 prefix, no ``iat``)."""
    body = {"y": grant.assessment_year, "v": grant.version, "to": grant.recipient, "exp": grant.expires}
    payload = base64.urlsafe_b64encode(json.dumps(body, separators=(",", ":")).encode()).rstrip(b"=").decode()
    mac = hmac.new(KEY, token.PURPOSE_V1 + payload.encode(), hashlib.sha256).digest()
    return f"{payload}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


def _later(raw: str, **changes: int) -> str:
    """The same token with its payload rewritten (the signature kept): what a holder of a revoked link can do."""
    payload, sig = raw.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body = base64.urlsafe_b64encode(json.dumps(data | changes, separators=(",", ":")).encode()).rstrip(b"=").decode()
    return f"{body}.{sig}"


def test_revoke_one_recipient_reissue_once_and_revoke_a_version(project_db, demo, outbox):
    _assessors(demo["config"], [("Alan Wicks", ALAN), ("Beth Osei", BETH)])
    org = load_organisation(demo["config"])
    engine = make_engine(project_db)
    built = pipeline.build(org, engine, data_paths().output, "t1")
    assert built is not None and built["version"] == 1
    sent = pipeline.send(org, engine, smtp_transport(), built, signing_key=KEY, base_url="http://airflow.test")
    assert sent["sent"] == 2
    tokens = _tokens(outbox)
    [alan], [beth] = tokens[ALAN], tokens[BETH]
    expires = token.verify(KEY, alan, datetime.now(UTC)).expires
    alan_v1 = _v1(token.Grant(2027, 1, ALAN, expires))  # links sent before this change keep working
    beth_v1 = _v1(token.Grant(2027, 1, BETH, expires))
    client = _download_app()

    def get(raw: str):  # type: ignore[no-untyped-def]
        return client.get("/download", params={"token": raw})

    assert [get(t).status_code for t in (alan, beth, alan_v1, beth_v1)] == [200] * 4

    # A mistyped address or a missing reason revokes nothing.
    typo = _cli("revoke", "--year", "2027", "--to", "alan.wicks@northfeld-cert.example.com", "--reason", "x", "--by", "Priya")
    assert typo.returncode == 1 and "nothing to revoke" in typo.stderr
    assert _cli("revoke", "--year", "2027", "--to", ALAN, "--reason", " ", "--by", "Priya").returncode == 1
    assert revoke.revocations(engine, 2027) == []

    # Alan's links are withdrawn by the CLI in another process: this process reads it from the database.
    done = _cli(
        "revoke",
        "--year",
        "2027",
        "--to",
        ALAN.upper(),
        "--reason",
        "sent to the wrong address",
        "--by",
        "Priya Raman",
        process=True,
    )
    assert done.returncode == 0, done.stderr
    assert "revoked" in done.stdout and f"version 1 to {ALAN}" in done.stdout
    [row] = revoke.revocations(engine, 2027)
    assert (row["recipient"], row["version"], row["revoked_by"], row["reason"]) == (
        ALAN,
        None,
        "Priya Raman",
        "sent to the wrong address",
    )
    assert row["contact"] == org.quality_team.mailbox and abs(row["revoked_at"] - datetime.now(UTC)) < timedelta(minutes=5)
    client = _download_app()  # a fresh app: nothing is remembered in memory
    local = row["revoked_at"].astimezone(ZoneInfo("Europe/London"))
    day = f"{local.day} {local:%B %Y}"
    for raw in (alan, alan_v1):
        r = get(raw)
        assert r.status_code == 410, raw
        assert r.text == (
            f"This download link was withdrawn on {day} by the quality team. Ask {org.quality_team.mailbox} for a new one."
        )
        assert "wrong address" not in r.text and "Priya" not in r.text  # the reason and the name stay in the record
    assert get(beth).status_code == 200 and get(beth_v1).status_code == 200  # Beth's links are not named

    # A later issued-at written into the revoked link breaks its signature; so does claiming the old format.
    later = token.millis(datetime.now(UTC) + timedelta(days=1))
    for forged in (_later(alan, iat=later), _later(alan_v1, iat=later), f"{alan.split('.')[0]}.{alan_v1.split('.')[1]}"):
        r = get(forged)
        assert r.status_code == 403 and "does not work" in r.text, forged
    with pytest.raises(token.BadToken):
        token.verify(KEY, _later(alan, iat=later), datetime.now(UTC))

    # The refusals are logged like the others, with the recipient; never the token.
    log = store.downloads(engine, 2027)
    revoked = [r for r in log if r["outcome"] == "revoked"]
    assert len(revoked) == 2 and {r["recipient"] for r in revoked} == {ALAN}
    assert revoked[0]["token_sha256"] == token.digest(alan) and "withdrawn on" in revoked[0]["detail"]
    assert [r["outcome"] for r in store.downloads(engine) if r["id"] > revoked[-1]["id"]][:2] == ["served", "served"]

    # Only a configured assessor is reissued a link; Alan is, and gets exactly one email however often it is run.
    outbox.clear()
    stranger = _cli("reissue", "--to", "someone@elsewhere.example", "--by", "Priya Raman")
    assert stranger.returncode == 1 and "not an assessor" in stranger.stderr
    first = _cli("reissue", "--year", "2027", "--to", ALAN, "--by", "Priya Raman", process=True)
    assert first.returncode == 0 and "reissued" in first.stdout, first.stderr
    again = _cli("reissue", "--to", ALAN, "--by", "Priya Raman", process=True)
    assert again.returncode == 0 and "nothing sent" in again.stdout, again.stderr
    mails = outbox.messages()
    assert [m["To"].addresses[0].addr_spec for m in mails] == [ALAN]
    assert mails[0]["Subject"] == "Kestrel Vale: evidence portfolio 2027, version 1 (a new link)"
    assert "the one we sent you before no longer works" in mails[0].get_body(("plain",)).get_content()
    assert sorted(p.get_filename() for p in mails[0].iter_attachments()) == ["index.html", "portfolio.xlsx"]
    [fresh] = _tokens(outbox)[ALAN]
    grant = token.verify(KEY, fresh, datetime.now(UTC))
    assert grant.issued_at > token.millis(row["revoked_at"])
    r = get(fresh)
    assert r.status_code == 200 and r.content == open(built["zip"], "rb").read()
    assert get(alan).status_code == 410  # the old link stays withdrawn

    # Every link of version 1, at once: Alan's fresh one and Beth's go; a reissue to Beth answers this one.
    assert _cli("revoke", "--year", "2027", "--version", "1", "--reason", "leaked", "--by", "Tom Hollis").returncode == 0
    assert [get(t).status_code for t in (fresh, beth, beth_v1)] == [410] * 3
    listed = _cli("revocations", "--year", "2027")
    assert listed.returncode == 0 and listed.stderr.strip() == "2 revocation(s)"
    assert [line.split("\t")[2:5] for line in listed.stdout.splitlines()] == [
        ["version every", ALAN, "by Priya Raman"],
        ["version 1", "every recipient", "by Tom Hollis"],
    ]
    outbox.clear()
    assert _cli("reissue", "--to", BETH, "--version", "1", "--by", "Tom Hollis").returncode == 0
    assert _cli("reissue", "--to", BETH, "--version", "1", "--by", "Tom Hollis").returncode == 0
    [beth_new] = _tokens(outbox)[BETH]
    assert get(beth_new).status_code == 200 and get(beth).status_code == 410

    # The assessor replaced: Carl, once in the config, gets a link for the version Alan's went out for.
    _assessors(demo["config"], [("Carl Moss", CARL), ("Beth Osei", BETH)])
    outbox.clear()
    assert _cli("reissue", "--to", CARL, "--by", "Tom Hollis").returncode == 0
    [carl] = _tokens(outbox)[CARL]
    assert get(carl).status_code == 200
    # What the outbox keeps: the first sends, and one reissue per person per latest revocation naming them.
    keys = sorted(link["key"] for link in revoke.sent_links(engine, 2027))
    assert keys == sorted(
        [
            store.dedupe_key(2027, 1, ALAN),
            store.dedupe_key(2027, 1, BETH),
            revoke.reissue_key(2027, 1, ALAN, row["id"]),
            revoke.reissue_key(2027, 1, BETH, row["id"] + 1),
            revoke.reissue_key(2027, 1, CARL, row["id"] + 1),  # the version-wide revocation names him too
        ]
    )


def test_a_link_issued_in_the_same_millisecond_as_a_revocation_is_still_after_it(project_db):
    """issue_time never hands out an issued-at a revocation already covers, and a revocation covers every
    link issued up to and including its own millisecond."""
    engine = make_engine(project_db)
    from sqlalchemy import insert

    from reaccreditation.db.schema import outbound_message

    now = datetime(2027, 3, 1, 12, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(outbound_message).values(
                dedupe_key=store.dedupe_key(2027, 2, ALAN),
                assessment_year=2027,
                kind=store.MESSAGE_KIND,
                recipients=ALAN,
                subject="s",
                status="sent",
                created_at=now,
            )
        )
    with pytest.raises(revoke.NotRevoked):
        revoke.revoke(engine, 2027, version=3, reason="x", by="y", contact="q@example.org", now=now)  # never sent
    with pytest.raises(revoke.NotRevoked):
        revoke.revoke(engine, 2027, reason="x", by="y", contact="q@example.org", now=now)  # names nobody
    with pytest.raises(revoke.NotRevoked):
        revoke.revoke(engine, 2027, recipient="  ", reason="x", by="y", contact="q@example.org", now=now)  # not everybody
    revoke.revoke(engine, 2027, recipient=ALAN, version=2, reason="x", by="y", contact="q@example.org", now=now)
    expires = int((now + timedelta(days=30)).timestamp())
    at = token.millis(now)
    assert store.revoked(engine, token.Grant(2027, 2, ALAN, expires, at)) is not None
    assert store.revoked(engine, token.Grant(2027, 2, ALAN.upper(), expires, at - 1)) is not None
    assert store.revoked(engine, token.Grant(2027, 2, ALAN, expires, None)) is not None  # a v1 link
    assert store.revoked(engine, token.Grant(2027, 2, ALAN, expires, at + 1)) is None
    assert store.revoked(engine, token.Grant(2027, 1, ALAN, expires, at)) is None  # another version
    assert store.revoked(engine, token.Grant(2027, 2, BETH, expires, at)) is None  # another recipient
    assert store.revoked(engine, token.Grant(2028, 2, ALAN, expires, at)) is None  # another year
    assert store.issue_time(engine, 2027, 2, ALAN, now) == at + 1
    assert store.issue_time(engine, 2027, 2, BETH, now) == at


def _refuses_rewrites(url: str, *extra: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import DatabaseError

    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO portfolio_revocation (assessment_year, recipient, reason, revoked_by, contact, revoked_at) "
                "VALUES (2027, :to, 'leaked', 'Priya Raman', 'q@example.org', '2027-03-01 12:00:00')"
            ),
            {"to": ALAN},
        )
    rewrites = ("UPDATE portfolio_revocation SET revoked_at = '2000-01-01 00:00:00'", "DELETE FROM portfolio_revocation")
    for statement in rewrites + extra:
        with pytest.raises(DatabaseError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    assert len(revoke.revocations(engine, 2027)) == 1
    engine.dispose()


def test_a_revocation_cannot_be_changed_or_removed_on_sqlite(project_db):
    """Deleting the row would bring the withdrawn links back: the trigger refuses UPDATE and DELETE."""
    _refuses_rewrites(project_db)


def test_a_revocation_cannot_be_changed_removed_or_truncated_on_postgresql(postgres_database):
    from reaccreditation.db import upgrade

    upgrade(postgres_database)
    _refuses_rewrites(postgres_database, "TRUNCATE portfolio_revocation")
