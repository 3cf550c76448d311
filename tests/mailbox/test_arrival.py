"""The mailbox's arrival trigger against the real Dovecot: new mail fires once (IMAP IDLE), a mailbox that
is down is retried until it answers, and mail the running intake takes never fires a second run."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from reaccreditation.mailbox.imap import FLAG
from reaccreditation.orchestration.arrival import MailboxArrivalTrigger

from ..trigger_events import Events
from .conftest import ImapBox
from .dovecot import Dovecot

SOON = 5.0  # IDLE reports a new message at once; this only bounds a broken test
QUIET = 0.6


class Watching(MailboxArrivalTrigger):
    """The trigger with "is an intake run active?" answered by the test instead of Airflow."""

    active = False

    async def run_active(self) -> bool:
        return self.active


def mail(n: int) -> bytes:
    return (
        f"From: HR <hr@kestrelvale.example.org>\r\nTo: quality@kestrelvale.example.org\r\nSubject: evidence {n}\r\n"
        f"Message-ID: <{n}@hr.example>\r\n\r\nPlease find our evidence attached.\r\n"
    ).encode()


def mark_done(box: ImapBox, uid: int) -> None:
    """What the intake's mailbox step does to a message it took."""
    c = box.client()
    try:
        c.select("INBOX")
        assert c.uid("STORE", str(uid), "+FLAGS", f"(\\Seen {FLAG})")[0] == "OK"
    finally:
        c.logout()


def test_new_mail_fires_once_and_the_next_message_fires_again(imap: ImapBox) -> None:
    async def scenario() -> list[dict | None]:
        async with Events(Watching(poll_interval=0.1)) as events:
            seen = [await events.next(QUIET)]  # an empty mailbox: nothing
            imap.append(mail(1))
            seen.append(await events.next(SOON))
            seen.append(await events.next(QUIET))  # still unread, already announced: nothing
            mark_done(imap, 1)
            imap.append(mail(2))
            seen.append(await events.next(SOON))
            return seen

    empty, first, again, second = asyncio.run(scenario())
    assert empty is None
    assert first == {"source": "mailbox", "uids": [1], "count": 1}
    assert again is None
    assert second == {"source": "mailbox", "uids": [2], "count": 1}


def test_mail_waiting_when_the_watch_starts_fires_once(imap: ImapBox) -> None:
    imap.append(mail(1), mail(2))

    async def scenario() -> list[dict | None]:
        async with Events(Watching(poll_interval=0.1, idle_seconds=0.2)) as events:
            return [await events.next(SOON), await events.next(QUIET)]

    backlog, again = asyncio.run(scenario())
    assert backlog == {"source": "mailbox", "uids": [1, 2], "count": 2}
    assert again is None


@pytest.mark.parametrize("taken", [True, False], ids=["the run took it", "it came after the run's fetch"])
def test_nothing_is_announced_while_a_run_is_active(imap: ImapBox, taken: bool) -> None:
    trigger = Watching(poll_interval=0.05)

    async def scenario() -> list[dict | None]:
        async with Events(trigger) as events:
            await asyncio.sleep(0.3)  # the watch is up, the mailbox empty
            trigger.active = True
            imap.append(mail(1))
            seen = [await events.next(QUIET)]
            if taken:
                mark_done(imap, 1)
            trigger.active = False
            seen.append(await events.next(QUIET if taken else SOON))
            return seen

    during, after = asyncio.run(scenario())
    assert during is None
    assert after == (None if taken else {"source": "mailbox", "uids": [1], "count": 1})


class RunEndsAfterTheSearch(Watching):
    """An intake run is active when the mail arrives; between the watcher's next search (which still finds the
    mail waiting) and its next question the run takes the mail and ends."""

    imap: ImapBox | None = None
    asked = 0

    async def run_active(self) -> bool:
        if self.active and self.imap is not None:
            self.asked += 1
            if self.asked == 1:
                return True  # the mail came during the run
            mark_done(self.imap, 1)  # the run took it, then ended
            self.imap, self.active = None, False
        return self.active


def test_mail_a_run_took_after_the_watchers_search_is_not_announced(imap: ImapBox) -> None:
    trigger = RunEndsAfterTheSearch(poll_interval=0.05)

    async def scenario() -> dict | None:
        async with Events(trigger) as events:
            await asyncio.sleep(0.3)
            trigger.active, trigger.imap = True, imap
            imap.append(mail(1))
            return await events.next(QUIET * 2)

    assert asyncio.run(scenario()) is None


def test_a_mailbox_that_is_down_is_retried_until_it_answers(imap: ImapBox, capfd: pytest.CaptureFixture[str]) -> None:
    """The server is not running when the watch starts; it keeps trying, then sees the mail that waits."""
    server = Dovecot(Path(tempfile.mkdtemp(prefix="dovecot-down-")))
    box = ImapBox(server, *server.new_user())
    os.environ["AIRFLOW_CONN_IMAP_DEFAULT"] = box.connection()  # the imap fixture restores it

    async def scenario() -> list[dict | None]:
        async with Events(Watching(poll_interval=0.1, max_pause=0.2)) as events:
            seen = [await events.next(1.0)]  # refused, refused, ...: no event, no end
            await asyncio.to_thread(server.start)
            await asyncio.to_thread(box.append, mail(1))
            seen.append(await events.next(SOON))
            return seen

    try:
        down, after = asyncio.run(scenario())
    finally:
        server.stop()
        shutil.rmtree(server.folder, ignore_errors=True)
    assert down is None
    assert after == {"source": "mailbox", "uids": [1], "count": 1}
    logged = capfd.readouterr()
    assert "mailbox watch: [Errno 111] Connect call failed" in logged.out + logged.err


def test_a_missing_connection_is_waited_for_not_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_IMAP_DEFAULT", raising=False)

    async def scenario() -> dict | None:
        async with Events(Watching(max_pause=0.1)) as events:
            return await events.next(0.5)

    assert asyncio.run(scenario()) is None
