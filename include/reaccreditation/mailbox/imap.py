"""The mailbox over IMAP (an ``imaplib`` client the Airflow IMAP hook logged in): list, fetch, mark done.

Messages are read with ``BODY.PEEK[]`` (nothing changes on the server while we work) and marked done
afterwards: flagged with a keyword (default ``$Reaccreditation``, plus ``\\Seen``) or, when a processed
folder is configured, moved there (``MOVE``, else copy, delete and expunge). Candidates are the messages
without the keyword, so a message whose flag or move failed is seen again and recognised by its claim.
"""

from __future__ import annotations

import imaplib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from time import mktime
from typing import Any

FLAG = "$Reaccreditation"


@dataclass(frozen=True)
class MailboxSettings:
    """From the IMAP connection's extras: ``mail_folder``, ``processed_folder``, ``processed_flag``, ``max_messages``."""

    folder: str = "INBOX"
    processed_folder: str | None = None
    processed_flag: str = FLAG
    max_messages: int = 200

    @classmethod
    def from_extra(cls, extra: dict[str, Any]) -> MailboxSettings:
        return cls(
            folder=str(extra.get("mail_folder") or "INBOX"),
            processed_folder=str(extra["processed_folder"]) if extra.get("processed_folder") else None,
            processed_flag=str(extra.get("processed_flag") or FLAG),
            max_messages=int(extra.get("max_messages") or 200),
        )


class ImapError(ConnectionError):
    """The server refused a command: an outage to retry, not a problem with a message."""


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Mailbox:
    def __init__(self, client: imaplib.IMAP4, settings: MailboxSettings, timeout: float = 120.0) -> None:
        self.client, self.settings = client, settings
        self.uidvalidity: str | None = None
        sock = getattr(client, "sock", None)
        if sock is not None:  # imaplib waits forever by default; a hung server must fail the task (it is retried)
            sock.settimeout(timeout)

    def _ok(self, result: tuple[str, list[Any]], what: str) -> list[Any]:
        typ, data = result
        if typ != "OK":
            raise ImapError(f"IMAP {what} failed: {data!r}"[:300])
        return data

    def open(self) -> str | None:
        self._ok(self.client.select(_quote(self.settings.folder)), f"SELECT {self.settings.folder}")
        _, values = self.client.response("UIDVALIDITY")
        self.uidvalidity = values[0].decode() if values and values[0] else None
        return self.uidvalidity

    def waiting(self) -> list[int]:
        """UIDs of messages not yet marked done, oldest first, at most ``max_messages``."""
        data = self._ok(self.client.uid("SEARCH", None, "UNKEYWORD", self.settings.processed_flag), "SEARCH")
        uids = sorted(int(u) for u in (data[0] or b"").split())
        return uids[: self.settings.max_messages]

    def fetch(self, uid: int) -> tuple[bytes, datetime | None] | None:
        """The whole message and the server's arrival time; None when it is gone (another run moved it)."""
        data = self._ok(self.client.uid("FETCH", str(uid), "(INTERNALDATE BODY.PEEK[])"), "FETCH")
        for item in data:
            if isinstance(item, tuple) and len(item) == 2:
                arrived = imaplib.Internaldate2tuple(item[0])
                return item[1], (datetime.fromtimestamp(mktime(arrived), UTC) if arrived else None)
        return None

    def done(self, uid: int) -> None:
        """Mark a handled message: keyword (and seen), then move it when a processed folder is set."""
        flags = f"(\\Seen {self.settings.processed_flag})"
        self._ok(self.client.uid("STORE", str(uid), "+FLAGS", flags), "STORE")
        target = self.settings.processed_folder
        if not target:
            return
        self.client.create(_quote(target))  # fails harmlessly when it exists
        capabilities = self._capabilities()
        if "MOVE" in capabilities:
            self._ok(self.client.uid("MOVE", str(uid), _quote(target)), "MOVE")
            return
        self._ok(self.client.uid("COPY", str(uid), _quote(target)), "COPY")
        self._ok(self.client.uid("STORE", str(uid), "+FLAGS", "(\\Deleted)"), "STORE")
        if "UIDPLUS" in capabilities:
            self._ok(self.client.uid("EXPUNGE", str(uid)), "UID EXPUNGE")
        else:
            self._ok(self.client.expunge(), "EXPUNGE")

    def _capabilities(self) -> set[str]:
        typ, data = self.client.capability()
        text = b" ".join(d for d in data if isinstance(d, bytes)).decode(errors="replace") if typ == "OK" else ""
        return set(re.split(r"\s+", text.upper()))
