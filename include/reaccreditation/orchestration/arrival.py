"""Evidence arriving, as Airflow asset events: the triggerer watches the inbox folder and the quality mailbox.

``evidence_intake`` is scheduled on two assets, each with an ``AssetWatcher`` whose event trigger runs in
Airflow's triggerer (no service of our own): a new file in the inbox folder, or a new message in the
mailbox, queues a run within seconds; the 15-minute schedule stays as the fallback for anything a stopped
triggerer missed (``AssetOrTimeSchedule``).

Each arrival gives one event, never one per poll: a file is announced once by its name, size and
modification time (and only once it has stopped changing between two looks), a message once by its UID
(only UIDs above the last one announced). While an intake run is queued or running nothing is announced:
what arrives then is looked at again when the run ends, and announced only if the run did not take it.
So the workbooks the mailbox step itself writes into the inbox during a run never queue a second run, and a
burst of files gives one or two runs. A mailbox that is down is logged and retried with a growing pause;
the watcher never stops.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from airflow.sdk import Asset, AssetWatcher
from airflow.triggers.base import BaseEventTrigger, TriggerEvent

from reaccreditation.orchestration.connections import IMAP_CONN_ID

log = logging.getLogger(__name__)

ACTIVE = ["queued", "running"]
Signature = tuple[int, int]  # size, modification time (ns)


async def _run_active(dag_id: str | None) -> bool:
    """Whether ``dag_id`` has a queued or running run (asked of Airflow through the triggerer)."""
    if not dag_id:
        return False
    from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance
    from asgiref.sync import sync_to_async

    try:
        return await sync_to_async(RuntimeTaskInstance.get_dr_count)(dag_id=dag_id, states=ACTIVE) > 0
    except Exception as exc:  # outside a triggerer there is no one to ask: announce rather than miss an arrival
        log.debug("could not ask Airflow about %s runs: %s", dag_id, exc)
        return False


class InboxArrivalTrigger(BaseEventTrigger):
    """Fires when workbooks land in the inbox folder (the names ``intake.pipeline.inbox_files`` sweeps)."""

    def __init__(self, folder: str, poll_interval: float = 2.0, quiet_while: str | None = None) -> None:
        super().__init__()
        self.folder, self.poll_interval, self.quiet_while = folder, poll_interval, quiet_while

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{__name__}.InboxArrivalTrigger",
            {"folder": self.folder, "poll_interval": self.poll_interval, "quiet_while": self.quiet_while},
        )

    async def run_active(self) -> bool:
        return await _run_active(self.quiet_while)

    def _look(self) -> dict[str, Signature]:
        from reaccreditation.intake.pipeline import inbox_files

        found = {}
        for path in inbox_files(Path(self.folder)):
            try:
                stat = path.lstat()
            except FileNotFoundError:  # swept between listing and looking
                continue
            found[path.name] = (stat.st_size, stat.st_mtime_ns)
        return found

    async def run(self) -> AsyncIterator[TriggerEvent]:
        announced: dict[str, Signature] = {}
        before: dict[str, Signature] = {}
        held = False  # a run was active at the last look
        while True:
            try:
                now = await asyncio.to_thread(self._look)
            except OSError as exc:  # a share that went away: keep looking
                self.log.warning("inbox watch: cannot list %s: %s", self.folder, exc)
                now = {}
            announced = {name: sig for name, sig in announced.items() if now.get(name) == sig}
            settled = sorted(name for name, sig in now.items() if announced.get(name) != sig and before.get(name) == sig)
            if settled and await self.run_active():
                held = True
            elif settled and held:
                held = False  # the run may have taken them after this listing: list again before announcing
            elif settled:
                announced |= {name: now[name] for name in settled}
                self.log.info("inbox watch: %d new file(s) in %s", len(settled), self.folder)
                yield TriggerEvent({"source": "inbox", "files": settled[:50], "count": len(settled)})
            before = now
            await asyncio.sleep(self.poll_interval)


class MailboxArrivalTrigger(BaseEventTrigger):
    """Fires when new mail waits in the quality mailbox (IMAP IDLE, else a search every ``poll_interval``)."""

    def __init__(
        self,
        conn_id: str = IMAP_CONN_ID,
        poll_interval: float = 5.0,
        idle_seconds: float = 240.0,
        max_pause: float = 300.0,
        quiet_while: str | None = None,
    ) -> None:
        super().__init__()
        self.conn_id, self.poll_interval, self.idle_seconds = conn_id, poll_interval, idle_seconds
        self.max_pause, self.quiet_while = max_pause, quiet_while

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{__name__}.MailboxArrivalTrigger",
            {
                "conn_id": self.conn_id,
                "poll_interval": self.poll_interval,
                "idle_seconds": self.idle_seconds,
                "max_pause": self.max_pause,
                "quiet_while": self.quiet_while,
            },
        )

    async def run_active(self) -> bool:
        return await _run_active(self.quiet_while)

    async def _mailbox(self) -> tuple[Any, dict[str, Any]] | None:
        """The server and the connection's extras, or None when no IMAP connection is configured."""
        from airflow.sdk.bases.hook import BaseHook
        from airflow.sdk.exceptions import AirflowNotFoundException

        from reaccreditation.mailbox.watch import Server
        from reaccreditation.orchestration.connections import imap_ssl_context

        try:
            conn = await BaseHook.aget_connection(self.conn_id)
        except AirflowNotFoundException:
            return None
        extra = dict(conn.extra_dejson)
        use_ssl = bool(extra.get("use_ssl", True))
        context = imap_ssl_context(extra) if use_ssl else None  # TLS as the provider's hook does it for the fetch
        server = Server(conn.host or "", conn.port, conn.login or "", conn.password or "", use_ssl, context)
        return server, extra

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from reaccreditation.mailbox.imap import ImapError, MailboxSettings
        from reaccreditation.mailbox.watch import Watch

        last: int | None = None  # the highest UID announced (None: announce what already waits, once)
        validity: str | None = None
        failures = 0
        held = False  # a run was active at the last search
        while True:
            try:
                found = await self._mailbox()
                if found is None:
                    self.log.info("mailbox watch: no %r connection; looking again in %.0f s", self.conn_id, self.max_pause)
                    await asyncio.sleep(self.max_pause)
                    continue
                server, extra = found
                settings = MailboxSettings.from_extra(extra)
                async with await Watch.open(server) as box:
                    now_validity = await box.examine(settings.folder)
                    if now_validity != validity:  # a rebuilt mailbox numbers its messages afresh
                        validity, last = now_validity, None
                    failures = 0
                    self.log.info("mailbox watch: watching %s (%s)", settings.folder, "IDLE" if box.can_idle else "polling")
                    while True:
                        waiting = await box.waiting(settings.processed_flag)
                        new = [uid for uid in waiting if last is None or uid > last]
                        if new and await self.run_active():
                            held = True
                            await asyncio.sleep(self.poll_interval)  # the run may take them: look again after it
                            continue
                        if new and held:
                            held = False  # the run ended after this search, and may have taken them: search again
                            continue
                        if new:
                            last = max(new)
                            self.log.info("mailbox watch: %d new message(s)", len(new))
                            yield TriggerEvent({"source": "mailbox", "uids": new[:50], "count": len(new)})
                        elif last is None:
                            last = max(waiting, default=0)
                        if box.can_idle:
                            await box.idle(self.idle_seconds)
                        else:
                            await asyncio.sleep(self.poll_interval)
            except (OSError, ImapError, TimeoutError) as exc:
                failures += 1
                pause = min(self.max_pause, 2.0**failures)
                self.log.warning("mailbox watch: %s; trying again in %.0f s", exc or type(exc).__name__, pause)
                await asyncio.sleep(pause)


def watched(folder: Path, dag_id: str) -> Asset | Any:
    """The assets ``dag_id`` is scheduled on: a file in ``folder`` or a new message, whichever comes first."""
    inbox = Asset(
        "reaccreditation://arrival/inbox",
        watchers=[AssetWatcher("inbox_folder", InboxArrivalTrigger(str(folder), quiet_while=dag_id))],
    )
    mailbox = Asset(
        "reaccreditation://arrival/mailbox",
        watchers=[AssetWatcher("quality_mailbox", MailboxArrivalTrigger(quiet_while=dag_id))],
    )
    return inbox | mailbox
