"""Messages per second through the project's SMTP transport: one session per task vs a login per message.

    source scripts/env.sh && python benchmarks/bench_mail.py [--messages 60] [--latency 0.02] [--login-cost 0.05]

A local relay (``devtools.smtp_relay``, aiosmtpd with AUTH) made to behave like a remote council relay:
``--latency`` seconds before each of its replies (a network round trip) and ``--login-cost`` seconds per
login. Both transports send the same built messages through the Airflow SMTP provider in the same run:

- baseline: the former ``smtp_transport()`` (until Dec 2026), an ``SmtpHook`` session (connect, EHLO, AUTH,
  QUIT) for every message;
- now: ``orchestration.connections.smtp_transport()`` (``mail.session.SmtpSession``), one session for all.

The limit is what the relay allows once logged in: the replies a message needs (MAIL, RCPT, DATA, end
of data) times the latency, so ``messages / (4 x latency)`` per second.
"""

from __future__ import annotations

import argparse
import os
import time
from email.message import EmailMessage

from measure import load, peak_rss_mib, rss_line

from devtools.smtp_relay import Relay
from reaccreditation.mail.compose import Draft, address, build_message
from reaccreditation.orchestration import connections

CONN_ID = "bench_relay"


def messages(n: int) -> list[EmailMessage]:
    out = []
    for i in range(n):
        to = [address(f"Contact {i}", f"contact{i}@kestrelvale.example.org")]
        body = "Please return your evidence workbook. " * 40
        out.append(build_message(Draft(to=to, subject=f"Evidence request {i}", text=body, html=f"<p>{body}</p>")))
    return out


def login_per_message(conn_id: str):  # type: ignore[no-untyped-def]
    """The transport as it was: a new SmtpHook session for each message."""

    def send(msg: EmailMessage) -> None:
        from airflow.providers.smtp.hooks.smtp import SmtpHook

        with SmtpHook(smtp_conn_id=conn_id) as hook:
            if not msg["From"] and hook.from_email:
                msg["From"] = hook.from_email
            hook._smtp_client.send_message(msg)

    return send


def run(relay: Relay, transport, batch: list[EmailMessage]) -> tuple[float, int, int]:  # type: ignore[no-untyped-def]
    sessions, logins = relay.log.sessions, relay.log.logins
    started = time.perf_counter()
    for msg in batch:
        transport(msg)
    close = getattr(transport, "close", None)
    if close:
        close()
    return time.perf_counter() - started, relay.log.sessions - sessions, relay.log.logins - logins


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=60)
    parser.add_argument("--latency", type=float, default=0.02, help="seconds before each relay reply")
    parser.add_argument("--login-cost", type=float, default=0.05, help="seconds the relay spends on a login")
    args = parser.parse_args()
    print(load())
    with Relay(latency=args.latency, login_cost=args.login_cost) as relay:
        os.environ[f"AIRFLOW_CONN_{CONN_ID.upper()}"] = relay.connection()
        login_per_message(CONN_ID)(messages(1)[0])  # warm imports and the connection look-up
        connections.smtp_transport(CONN_ID)(messages(1)[0])
        old = run(relay, login_per_message(CONN_ID), messages(args.messages))
        new = run(relay, connections.smtp_transport(CONN_ID), messages(args.messages))
        got = len(relay.log.messages)
    n = args.messages
    limit = 1 / (4 * args.latency) if args.latency else float("inf")
    print(f"relay: {args.latency * 1000:.0f} ms per reply, {args.login_cost * 1000:.0f} ms per login; {n} messages each")
    for name, (secs, sessions, logins) in (("login per message (before)", old), ("one session per task (now)", new)):
        print(f"  {name:<28} {secs:6.2f} s  {n / secs:6.1f} msg/s  sessions {sessions:>3}  logins {logins:>3}")
    print(f"  speed-up {old[0] / new[0]:.1f}x; limit once logged in {limit:.1f} msg/s (now at {n / new[0] / limit:.0%} of it)")
    print(f"  messages taken by the relay: {got} (expected {2 * n + 2})")
    print(load(), "|", rss_line(peak_rss_mib()))


if __name__ == "__main__":
    main()
