"""One diary's allowance: at most ``max_bytes`` of answer, all of it within ``seconds`` of wall-clock time.

Socket timeouts count per read, so a server that trickles a byte every half second, or streams without end,
never trips them. A :class:`Budget` is entered by the thread that reads one diary. Every socket that thread
connects meanwhile, whichever library opens it (httpx for a published address, requests under caldav, through
a proxy or a redirect), is noted through Python's ``socket.connect`` audit event; when the time is up each is
shut down, so the read blocked on it returns at once and the thread ends instead of reading on, abandoned.
The readers check :meth:`Budget.spend` as bytes arrive: a body cut short by the shutdown is never taken for
a whole diary.
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from types import TracebackType

from reaccreditation.timetable.diaries.ics import DiaryError, too_big

_current = threading.local()
_hooked = False
_hook_lock = threading.Lock()


def seconds(timeout: float) -> str:
    return f"{timeout:g} second" + ("" if timeout == 1 else "s")


def _audit(event: str, args: tuple) -> None:
    if event == "socket.connect":
        budget = getattr(_current, "budget", None)
        if budget is not None:
            budget._watch(args[0])


def _hook() -> None:
    """Audit hooks cannot be removed: one, installed the first time a diary is read, idle outside a read."""
    global _hooked
    with _hook_lock:
        if not _hooked:
            sys.addaudithook(_audit)
            _hooked = True


class Budget:
    """``with Budget(seconds, max_bytes, timeout):`` around one diary's read, in the thread that reads it."""

    def __init__(self, seconds: float, max_bytes: int, timeout: float) -> None:
        self.seconds, self.max_bytes, self.timeout = seconds, max_bytes, timeout
        self.expired = False
        self._done = False
        self.failure: DiaryError | None = None  # the first refusal: every later request of this read fails at once
        self._end = 0.0
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._timer: threading.Timer | None = None

    def __enter__(self) -> Budget:
        _hook()
        self._end = time.monotonic() + self.seconds
        self._timer = threading.Timer(self.seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()
        _current.budget = self
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        _current.budget = None
        if self._timer is not None:
            self._timer.cancel()
        with self._lock:
            watched, self._sockets, self._done = self._sockets, [], True
        for sock in watched:
            sock.close()

    def wait(self) -> float:
        """How long one socket operation may wait: the per-read timeout, or what is left of the whole read."""
        if self.failure is not None:
            raise self.failure
        left = self._end - time.monotonic()
        if self.expired or left <= 0:
            raise self.refuse(self.overrun())
        return min(self.timeout, left)

    def spend(self, size: int, *, announced: bool = False) -> None:
        """``size`` bytes of answer have arrived (``announced``: are declared to come): refuse beyond the cap or
        the deadline."""
        if self.failure is not None:
            raise self.failure
        if size > self.max_bytes:
            raise self.refuse(too_big(size if announced else None, self.max_bytes))
        if self.expired or time.monotonic() > self._end:
            raise self.refuse(self.overrun())

    def refuse(self, problem: DiaryError) -> DiaryError:
        self.failure = self.failure or problem
        return self.failure

    def overrun(self) -> DiaryError:
        return DiaryError(
            f"was still answering after {seconds(self.seconds)}, the most one diary may take "
            "(timetable.diaries.deadline_seconds): stopped. A server this slow is broken or is not a calendar server: "
            "check the address with the diary's owner"
        )

    def _watch(self, sock: socket.socket) -> None:
        try:
            twin = sock.dup()  # TLS detaches the original socket object; a twin of the descriptor stays usable
        except OSError:
            return
        with self._lock:
            if self._done:
                twin.close()
                return
            if self.expired:
                _cut(twin)
            self._sockets.append(twin)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _cut(sock)


def _cut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:  # not connected yet, or already closed
        pass
