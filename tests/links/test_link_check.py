"""The link check against a real local HTTPS server started here (its own CA): 200, 404, loop, timeout, bad TLS."""

from __future__ import annotations

import datetime as dt
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from reaccreditation.links.check import check

SLOW = 3.0


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A CA and a certificate for 127.0.0.1 signed by it (the test trusts the CA, nothing else does)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("test CA"))
        .issuer_name(name("test CA"))
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(2)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_path, pem = folder / "ca.pem", folder / "server.pem"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    pem.write_bytes(
        cert.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return ca_path, pem


class Handler(BaseHTTPRequestHandler):
    def do_HEAD(self) -> None:  # noqa: N802 - http.server's names
        if self.path == "/ok":
            self.send_response(200)
        elif self.path == "/no-head":
            self.send_response(405)
        elif self.path == "/loop":
            self.send_response(302)
            self.send_header("Location", "/loop")
        elif self.path == "/moved":
            self.send_response(301)
            self.send_header("Location", "/ok")
        elif self.path == "/slow":
            time.sleep(SLOW)
            self.send_response(200)
        else:
            self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200 if self.path == "/no-head" else 404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[tuple[str, Path]]:  # type: ignore[no-untyped-def]
    ca, pem = _certificate(tmp_path_factory.mktemp("tls"))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pem)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{httpd.server_address[1]}", ca
    httpd.shutdown()
    httpd.server_close()


def test_each_link_gets_its_verdict(server) -> None:  # type: ignore[no-untyped-def]
    base, ca = server
    urls = [f"{base}/ok", f"{base}/missing", f"{base}/loop", f"{base}/slow", f"{base}/moved", f"{base}/no-head"]
    urls += ["https://intranet.kestrelvale.gov.uk/policy", "https://sub.intranet.kestrelvale.gov.uk/x", "http://insecure.test/"]
    started = time.monotonic()
    found = check(
        urls,
        internal_hosts=("intranet.kestrelvale.gov.uk",),
        timeout=0.5,
        concurrency=4,
        verify=ssl.create_default_context(cafile=str(ca)),
    )
    assert time.monotonic() - started < SLOW  # the slow link did not hold the others up
    verdict = {u.removeprefix(base): (r.status, r.detail) for u, r in found.items()}
    assert verdict == {
        "/ok": ("working", "200 OK"),
        "/missing": ("broken", "404 Not Found"),
        "/loop": ("broken", "redirects more than 10 times (a redirect loop)"),
        "/slow": ("broken", "no answer within 0.5 s"),
        "/moved": ("working", "200 OK"),
        "/no-head": ("working", "200 OK"),
        "https://intranet.kestrelvale.gov.uk/policy": ("not_checked", "internal host: only reachable inside the organisation"),
        "https://sub.intranet.kestrelvale.gov.uk/x": ("not_checked", "internal host: only reachable inside the organisation"),
        "http://insecure.test/": ("not_checked", "not an https link"),
    }


def test_a_certificate_nobody_trusts_is_broken(server) -> None:  # type: ignore[no-untyped-def]
    base, _ = server
    [result] = check([f"{base}/ok"], timeout=2).values()  # the system's CAs: the test CA is not among them
    assert (result.status, result.detail) == ("broken", "the site's security certificate is not valid")


def test_a_broken_link_is_an_at_risk_reason_in_gap_analysis(demo) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    from reaccreditation.gaps.analysis import analyse
    from reaccreditation.organisation.config import load_organisation

    org = load_organisation(demo["config"], today=date(2027, 1, 20))
    dept = org.departments[0]
    element = dept.elements[0]
    url = "https://www.kestrelvale.gov.uk/gone"
    row = {
        "department_id": dept.id,
        "element_id": element,
        "title": "Complaints policy",
        "link": url,
        "evidence_date": org.assessment.evidence_window_start,
        "self_rating": "Compliance",
    }
    sub = {"department_id": dept.id, "assessment_year": org.assessment.year, "status": "accepted"}
    args = (org, [row], [sub], [], date(2027, 1, 20))
    [without] = [r for r in analyse(*args).elements if r.element_id == element]
    [with_] = [r for r in analyse(*args, {url: "404 Not Found"}).elements if r.element_id == element]
    assert "broken_link" not in {r.code for r in without.reasons}
    [reason] = [r for r in with_.reasons if r.code == "broken_link"]
    assert (
        (reason.severity, reason.departments) == ("risk", (dept.id,))
        and "404 Not Found" in reason.message
        and url in reason.message
    )
    assert with_.readiness != without.readiness or without.readiness != "ready"
