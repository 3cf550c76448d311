"""Watching the quality mailbox for new mail without reading it: a small asyncio IMAP session.

The evidence_intake DAG's mailbox watcher (``orchestration.arrival``) runs in Airflow's triggerer, an
asyncio loop shared with every other trigger, so it cannot block on ``imaplib``. It needs only five
commands: LOGIN, CAPABILITY, EXAMINE (read-only: nothing changes on the server), UID SEARCH for the
messages not yet marked done (the same ``UNKEYWORD`` search ``imap.Mailbox.waiting`` runs) and IDLE, which
makes the server tell us the moment a message arrives; a server without IDLE is asked again every few
seconds. Reading and marking messages stays ``imap.Mailbox``'s, in the DAG's task.
"""

from __future__ import annotations

import asyncio
import re
import ssl
from dataclasses import dataclass, field
from types import TracebackType

from reaccreditation.mailbox.imap import FLAG, ImapError

LITERAL = re.compile(rb"\{(\d+)\}\r\n$")
UIDVALIDITY = re.compile(rb"\[UIDVALIDITY (\d+)\]", re.IGNORECASE)


@dataclass(frozen=True)
class Server:
    """Where the mailbox is, from the IMAP connection (the Airflow IMAP provider's fields, its ``use_ssl`` and
    the TLS context its hook would use: ``orchestration.connections.imap_ssl_context``; None: certificates
    verified, ``ssl.create_default_context()``)."""

    host: str
    port: int | None
    login: str
    password: str
    use_ssl: bool = True
    ssl_context: ssl.SSLContext | None = field(default=None, compare=False, repr=False)

    @property
    def address(self) -> tuple[str, int]:
        return self.host or "localhost", self.port or (993 if self.use_ssl else 143)


def _quoted(value: str) -> str:
    if any(c in value for c in "\r\n\0"):
        raise ImapError("the IMAP login or password contains a line break")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Watch:
    """One logged-in IMAP session; ``async with await Watch.open(server) as w`` logs out at the end."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, timeout: float) -> None:
        self.reader, self.writer, self.timeout = reader, writer, timeout
        self.capabilities: set[str] = set()
        self._tag = 0
        self._idling = False

    @classmethod
    async def open(cls, server: Server, timeout: float = 30.0) -> Watch:
        context = (server.ssl_context or ssl.create_default_context()) if server.use_ssl else None
        host, port = server.address
        async with asyncio.timeout(timeout):  # not wait_for: on 3.11 it can lose a cancellation (the watch never stops)
            reader, writer = await asyncio.open_connection(host, port, ssl=context)
        watch = cls(reader, writer, timeout)
        try:
            greeting = await watch._line()
            if not greeting.startswith((b"* OK", b"* PREAUTH")):
                raise ImapError(f"IMAP server refused the connection: {greeting[:200]!r}")
            if not greeting.startswith(b"* PREAUTH"):
                await watch.command(f"LOGIN {_quoted(server.login)} {_quoted(server.password)}", what="LOGIN")
            for line in await watch.command("CAPABILITY"):
                if line.upper().startswith(b"* CAPABILITY "):
                    watch.capabilities |= set(line[13:].decode(errors="replace").upper().split())
        except BaseException:
            watch.writer.close()
            raise
        return watch

    @property
    def can_idle(self) -> bool:
        return "IDLE" in self.capabilities

    async def _line(self, timeout: float | None = None) -> bytes:
        """One response line, with any literal it announces folded in; a closed connection is an error."""
        async with asyncio.timeout(timeout or self.timeout):
            line = await self.reader.readline()
        if not line:
            raise ConnectionResetError("the IMAP server closed the connection")
        while literal := LITERAL.search(line):
            async with asyncio.timeout(self.timeout):
                line = line[: literal.start()] + await self.reader.readexactly(int(literal[1])) + await self.reader.readline()
        return line

    async def _send(self, text: str) -> None:
        self.writer.write(text.encode() + b"\r\n")
        async with asyncio.timeout(self.timeout):
            await self.writer.drain()

    def _next_tag(self) -> bytes:
        self._tag += 1
        return b"W%d" % self._tag

    async def command(self, text: str, what: str | None = None) -> list[bytes]:
        """Send one command and return its untagged lines; anything but OK raises ``ImapError``."""
        tag = self._next_tag()
        await self._send(f"{tag.decode()} {text}")
        return await self._until(tag, what or text.split()[0])

    async def _until(self, tag: bytes, what: str) -> list[bytes]:
        lines = []
        while True:
            line = await self._line()
            if line.startswith(tag + b" "):
                if not line[len(tag) + 1 :].upper().startswith(b"OK"):
                    raise ImapError(f"IMAP {what} failed: {line.decode(errors='replace').strip()}"[:300])
                return lines
            lines.append(line)

    async def examine(self, folder: str = "INBOX") -> str | None:
        """Open ``folder`` read-only; its UIDVALIDITY (UIDs are only comparable while it stays the same)."""
        lines = await self.command(f"EXAMINE {_quoted(folder)}", what=f"EXAMINE {folder}")
        for line in lines:
            if found := UIDVALIDITY.search(line):
                return found[1].decode()
        return None

    async def waiting(self, flag: str = FLAG) -> list[int]:
        """UIDs of the messages not yet marked done, as ``imap.Mailbox.waiting`` finds them."""
        uids: list[int] = []
        await self.command("NOOP")  # brings this session's view up to date (Dovecot: flags set by another session)
        for line in await self.command(f"UID SEARCH UNKEYWORD {flag}", what="SEARCH"):
            if line.upper().startswith(b"* SEARCH"):
                uids += [int(u) for u in line[8:].split()]
        return sorted(uids)

    async def idle(self, seconds: float) -> bool:
        """Wait (IMAP IDLE) up to ``seconds`` for the server to report a change; True when it did."""
        tag = self._next_tag()
        self._idling = True
        await self._send(f"{tag.decode()} IDLE")
        first = await self._line()
        if not first.startswith(b"+"):
            raise ImapError(f"IMAP IDLE refused: {first.decode(errors='replace').strip()}"[:300])
        changed = False
        deadline = asyncio.get_running_loop().time() + seconds
        try:
            while not changed:  # untagged updates: a new message comes as "* n EXISTS", a flag change as "* n FETCH"
                line = await self._line(timeout=max(0.01, deadline - asyncio.get_running_loop().time()))
                changed = re.match(rb"\* \d+ EXISTS", line, re.IGNORECASE) is not None
        except TimeoutError:
            pass
        await self._send("DONE")
        self._idling = False
        await self._until(tag, "IDLE")
        return changed

    async def close(self) -> None:
        """Say goodbye without waiting for the answer: a watch is usually stopped by cancelling it mid-IDLE,
        when awaiting the server again could hold the triggerer up."""
        try:
            self.writer.write((b"DONE\r\n" if self._idling else b"") + self._next_tag() + b" LOGOUT\r\n")
        except (OSError, RuntimeError):
            pass
        finally:
            self.writer.close()

    async def __aenter__(self) -> Watch:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.close()
