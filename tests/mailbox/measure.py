"""Measure one mailbox pass: ``python tests/mailbox/measure.py [N]`` (N replies with a workbook + N without).

Starts its own Dovecot (as the tests do), a demo council and a fresh SQLite project database in a
temporary folder, APPENDs the messages, then times ``collect`` + ``send_answers`` (answers to a list).
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "include"), str(ROOT)]

from reaccreditation.db import make_engine, upgrade  # noqa: E402
from reaccreditation.demo import generate  # noqa: E402
from reaccreditation.mailbox.imap import Mailbox, MailboxSettings  # noqa: E402
from reaccreditation.mailbox.process import Context, collect, own_addresses, send_answers  # noqa: E402
from reaccreditation.organisation.config import load_organisation  # noqa: E402
from reaccreditation.settings import Paths  # noqa: E402
from tests.mailbox.conftest import ImapBox  # noqa: E402
from tests.mailbox.dovecot import Dovecot  # noqa: E402
from tests.mailbox.mails import contact, raw, reply, workbook  # noqa: E402


def main(n: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="mailbox-measure-"))
    folder.chmod(0o755)  # Dovecot's unprivileged processes must reach the mail folder inside
    server = Dovecot(folder / "dovecot").start()
    try:
        paths = generate(folder / "demo", date(2027, 3, 15))
        org = load_organisation(paths["config"], today=date(2027, 1, 20))
        url = f"sqlite:///{folder / 'project.db'}"
        upgrade(url)
        box = ImapBox(server, *server.new_user())
        depts = [d.id for d in org.departments]
        books = {d: workbook(org, d) for d in depts}
        messages = []
        for i in range(n):
            d = depts[i % len(depts)]
            messages.append(raw(reply(org, d, contact(org, d), attachments=[(f"{d}-evidence-{i}.xlsx", books[d])])))
            messages.append(raw(reply(org, d, contact(org, d), body=f"forgot the attachment {i}")))
        box.append(*messages)
        size = sum(len(m) for m in messages)
        client = box.client()
        sent: list = []
        ctx = Context(org, make_engine(url), Paths(folder / "data"), "measure", own_addresses(org))
        start = time.perf_counter()
        counts = collect(Mailbox(client, MailboxSettings(max_messages=10 * n)), ctx)
        counts["answers_sent"] = send_answers(ctx, sent.append)
        took = time.perf_counter() - start
        client.logout()
        print(f"{2 * n} messages ({size / 1e6:.1f} MB) handled in {took:.2f} s ({2 * n / took:.0f} messages/s): {counts}")
    finally:
        server.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)
