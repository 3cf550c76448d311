"""Getting a diary's bytes: a file beside the organisation config, or a published address over HTTP.

Every failure becomes a :class:`DiaryError` whose message finishes a sentence about the source. Addresses are
named by their host only: a published calendar's path often holds its secret token (Google's "secret address").
"""

from __future__ import annotations

import logging
import os
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from reaccreditation.timetable.diaries.budget import Budget, seconds
from reaccreditation.timetable.diaries.ics import MAX_BYTES, DiaryError, too_big


def host(url: str) -> str:
    return urlsplit(url).hostname or "?"


def read_file(path: Path, max_bytes: int = MAX_BYTES) -> bytes:
    try:
        if path.stat().st_size > max_bytes:
            raise too_big(path.stat().st_size, max_bytes)
        return path.read_bytes()
    except FileNotFoundError:
        raise DiaryError("was not found (the path is relative to the organisation config's folder)") from None
    except OSError as exc:
        raise DiaryError(f"could not be read ({exc.strerror or type(exc).__name__})") from None


def get(url: str, budget: Budget, tls: ssl.SSLContext | None = None) -> bytes:
    """The body at ``url``, within ``budget`` (its bytes and its wall-clock time, a server trickling bytes too).

    A client of its own: no connection is shared with another diary's read, whose budget would not cover it.
    ``tls``: one context for all of a reading's clients (making one loads the CA bundle: ~25 ms).
    """
    try:
        with (
            httpx.Client(follow_redirects=True, max_redirects=5, verify=tls or True) as client,
            client.stream("GET", url, timeout=budget.wait(), headers={"Accept": "text/calendar, */*;q=0.5"}) as response,
        ):
            if response.status_code >= 400:
                raise DiaryError(f"answered {response.status_code} {response.reason_phrase}".rstrip())
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit():
                budget.spend(int(declared), announced=True)
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                budget.spend(len(body))
            budget.spend(len(body))  # a body ended by the deadline's cut is not a whole diary
            return bytes(body)
    except httpx.HTTPError as exc:
        if budget.expired:
            raise budget.refuse(budget.overrun()) from None
        if isinstance(exc, httpx.TimeoutException):
            raise DiaryError(f"did not answer within {seconds(budget.timeout)}") from None
        if isinstance(exc, httpx.ConnectError):
            raise DiaryError("could not be reached (the connection was refused or the server is unknown)") from None
        if isinstance(exc, httpx.TooManyRedirects):
            raise DiaryError("redirected too many times") from None
        raise DiaryError(f"could not be read ({type(exc).__name__})") from None


class _Quiet(logging.Filter):
    """httpx logs every request's full address at INFO (a published diary's address is a secret); caldav logs a
    server's raw answer on the root logger when it is not the XML expected (it may be anything)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name in ("httpx", "httpcore"):
            return not str(record.msg).startswith("HTTP Request:")
        return f"{os.sep}caldav{os.sep}" not in record.pathname


@contextmanager
def clients_quiet() -> Iterator[None]:
    """While diaries are read: no diary address, no CalDAV answer in the log (our notes say what went wrong)."""
    quiet = _Quiet()
    filtered = [logging.getLogger("httpx"), logging.getLogger("httpcore"), logging.getLogger()]
    caldav = logging.getLogger("caldav")  # and its children, which inherit its level
    level = caldav.level
    for logger in filtered:
        logger.addFilter(quiet)
    caldav.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        caldav.setLevel(level)
        for logger in filtered:
            logger.removeFilter(quiet)
