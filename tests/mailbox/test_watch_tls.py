"""The mailbox watcher connects over TLS exactly as the intake's fetch (the Airflow IMAP provider's hook) does:
the connection's ``ssl_context`` extra, else ``[imap]`` then ``[email] ssl_context``, "default" or "none".

Against a real Dovecot serving IMAP over TLS with a certificate from a test authority: with "none" both connect
(nothing verified); with "default" both connect once the authority is trusted, and both refuse it when not.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import ssl
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from reaccreditation.orchestration.arrival import MailboxArrivalTrigger
from reaccreditation.orchestration.connections import imap_ssl_context

from ..trigger_events import Events
from .conftest import ImapBox
from .dovecot import Dovecot, dovecot_binary

SOON = 5.0


class Watching(MailboxArrivalTrigger):
    async def run_active(self) -> bool:
        return False


def mail(n: int) -> bytes:
    return (
        f"From: hr@kestrelvale.example.org\r\nTo: quality@kestrelvale.example.org\r\nSubject: tls {n}\r\n\r\nHello\r\n".encode()
    )


def _authority(folder: Path) -> tuple[Path, Path, Path]:
    """A test certificate authority and a certificate it signed for 127.0.0.1: (authority, cert, key)."""

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    run(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=Test CA",
    )
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    (folder / "san.cnf").write_text("subjectAltName=IP:127.0.0.1\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "cert.pem",
        "-days", "2", "-extfile", "san.cnf")  # fmt: skip
    return folder / "ca.pem", folder / "cert.pem", folder / "key.pem"


@pytest.fixture(scope="module")
def tls_dovecot() -> Iterator[tuple[Dovecot, Path]]:
    if dovecot_binary() is None or shutil.which("openssl") is None:
        pytest.skip("dovecot or openssl is not installed")
    folder = Path(tempfile.mkdtemp(prefix="dovecot-tls-"))
    folder.chmod(0o755)  # Dovecot's unprivileged auth and mail processes must reach the server's folder in it
    (folder / "certs").mkdir()
    authority, cert, key = _authority(folder / "certs")
    server = Dovecot(folder / "server", tls=(cert, key)).start()
    try:
        yield server, authority
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def tls_box(tls_dovecot: tuple[Dovecot, Path], monkeypatch: pytest.MonkeyPatch) -> Iterator[ImapBox]:
    server, _ = tls_dovecot
    monkeypatch.delenv("AIRFLOW__IMAP__SSL_CONTEXT", raising=False)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    yield ImapBox(server, *server.new_user())


def _use(box: ImapBox, monkeypatch: pytest.MonkeyPatch, **extra: object) -> None:
    """``imap_default`` for ``box`` over TLS (imaps), with ``extra``."""
    conn = {
        "conn_type": "imap",
        "host": "127.0.0.1",
        "port": box.server.tls_port,
        "login": box.login,
        "password": box.password,
        "extra": {"use_ssl": True, **extra},
    }
    monkeypatch.setenv("AIRFLOW_CONN_IMAP_DEFAULT", json.dumps(conn))


def _fetch_logs_in() -> bool:
    """What the intake's fetch does first: the provider's hook connects and logs in."""
    from airflow.providers.imap.hooks.imap import ImapHook

    with ImapHook(imap_conn_id="imap_default") as hook:
        return hook.mail_client.noop()[0] == "OK"


def _watch_fires(box: ImapBox) -> dict | None:
    async def scenario() -> dict | None:
        async with Events(Watching(poll_interval=0.1, max_pause=0.2)) as events:
            await asyncio.sleep(0.3)
            await asyncio.to_thread(box.append, mail(1))
            return await events.next(SOON)

    return asyncio.run(scenario())


def test_ssl_context_none_the_watcher_connects_where_the_fetch_does(tls_box: ImapBox, monkeypatch: pytest.MonkeyPatch):
    """A deployment with a certificate nobody vouches for, told "none": its fetch works, so must its watcher."""
    _use(tls_box, monkeypatch, ssl_context="none")
    assert _fetch_logs_in()
    assert _watch_fires(tls_box) == {"source": "mailbox", "uids": [1], "count": 1}


def test_ssl_context_from_the_imap_config_section(tls_box: ImapBox, monkeypatch: pytest.MonkeyPatch):
    _use(tls_box, monkeypatch)  # no extra: [imap] ssl_context decides, for the hook and the watcher alike
    monkeypatch.setenv("AIRFLOW__IMAP__SSL_CONTEXT", "none")
    assert _fetch_logs_in()
    assert _watch_fires(tls_box) == {"source": "mailbox", "uids": [1], "count": 1}


def test_ssl_context_default_verifies_the_certificate_for_both(
    tls_box: ImapBox, tls_dovecot: tuple[Dovecot, Path], monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
):
    _use(tls_box, monkeypatch, ssl_context="default")
    with pytest.raises(ssl.SSLCertVerificationError):
        _fetch_logs_in()
    assert _watch_fires(tls_box) is None  # refused, retried, never fired
    logged = capfd.readouterr()
    assert "mailbox watch: [SSL: CERTIFICATE_VERIFY_FAILED]" in logged.out + logged.err

    monkeypatch.setenv("SSL_CERT_FILE", str(tls_dovecot[1]))  # the authority trusted: both connect, verified
    assert _fetch_logs_in()
    fired = _watch_fires(tls_box)
    assert fired is not None and fired["source"] == "mailbox"


class _Caught(Exception):
    pass


def _providers_context(monkeypatch: pytest.MonkeyPatch, extra: dict) -> ssl.SSLContext:
    """The context the provider's hook would hand imaplib (None: imaplib's own), without connecting."""
    from airflow.models.connection import Connection
    from airflow.providers.imap.hooks import imap as provider

    seen: dict[str, ssl.SSLContext | None] = {}

    def capture(host: str, port: int = 993, ssl_context: ssl.SSLContext | None = None) -> None:
        seen["context"] = ssl_context
        raise _Caught

    conn = Connection(conn_id="x", conn_type="imap", host="127.0.0.1", port=1, extra=json.dumps(extra))
    with monkeypatch.context() as patched, pytest.raises(_Caught):
        patched.setattr(provider.imaplib, "IMAP4_SSL", capture)
        provider.ImapHook()._build_client(conn)
    return seen["context"] or ssl._create_stdlib_context()  # what IMAP4_SSL does with no context


@pytest.mark.parametrize("extra", [None, "default", "none"])
@pytest.mark.parametrize("imap_section", [None, "default", "none"])
@pytest.mark.parametrize("email_section", [None, "none"])
def test_the_watchers_context_is_the_providers(monkeypatch: pytest.MonkeyPatch, extra, imap_section, email_section):
    for section, value in (("IMAP", imap_section), ("EMAIL", email_section)):
        if value is None:
            monkeypatch.delenv(f"AIRFLOW__{section}__SSL_CONTEXT", raising=False)
        else:
            monkeypatch.setenv(f"AIRFLOW__{section}__SSL_CONTEXT", value)
    given = {"use_ssl": True} | ({"ssl_context": extra} if extra else {})
    theirs, ours = _providers_context(monkeypatch, given), imap_ssl_context(given)
    assert (ours.verify_mode, ours.check_hostname) == (theirs.verify_mode, theirs.check_hostname)
    expected = "none" if (extra or imap_section or email_section or "default") == "none" else "default"
    assert ours.verify_mode == (ssl.CERT_NONE if expected == "none" else ssl.CERT_REQUIRED)


def test_an_unknown_ssl_context_is_refused_as_the_provider_refuses_it(monkeypatch: pytest.MonkeyPatch):
    from reaccreditation.mailbox.imap import ImapError

    with pytest.raises(ImapError, match="must be set to 'default' or 'none' and is 'strict'"):
        imap_ssl_context({"ssl_context": "strict"})
