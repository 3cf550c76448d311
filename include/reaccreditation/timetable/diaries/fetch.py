"""Getting a diary's bytes: a file beside the organisation config, or a published address over HTTP.

Every failure becomes a :class:`DiaryError` whose message finishes a sentence about the source. Addresses are
named by their host only: a published calendar's path often holds its secret token (Google's "secret address").
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from reaccreditation.timetable.diaries.ics import MAX_BYTES, DiaryError, too_big


def seconds(timeout: float) -> str:
    return f"{timeout:g} second" + ("" if timeout == 1 else "s")


def host(url: str) -> str:
    return urlsplit(url).hostname or "?"


def read_file(path: Path) -> bytes:
    try:
        if path.stat().st_size > MAX_BYTES:
            raise too_big(path.stat().st_size)
        return path.read_bytes()
    except FileNotFoundError:
        raise DiaryError("was not found (the path is relative to the organisation config's folder)") from None
    except OSError as exc:
        raise DiaryError(f"could not be read ({exc.strerror or type(exc).__name__})") from None


def get(client: httpx.Client, url: str, timeout: float) -> bytes:
    """The body at ``url``; at most MAX_BYTES, within ``timeout`` seconds in all (a server trickling bytes too)."""
    deadline = time.monotonic() + timeout
    try:
        with client.stream("GET", url, timeout=timeout, headers={"Accept": "text/calendar, */*;q=0.5"}) as response:
            if response.status_code >= 400:
                raise DiaryError(f"answered {response.status_code} {response.reason_phrase}".rstrip())
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > MAX_BYTES:
                raise too_big(int(declared))
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_BYTES:
                    raise too_big()
                if time.monotonic() > deadline:
                    raise DiaryError(f"did not finish sending within {seconds(timeout)}")
            return bytes(body)
    except httpx.TimeoutException:
        raise DiaryError(f"did not answer within {seconds(timeout)}") from None
    except httpx.ConnectError:
        raise DiaryError("could not be reached (the connection was refused or the server is unknown)") from None
    except httpx.TooManyRedirects:
        raise DiaryError("redirected too many times") from None
    except httpx.HTTPError as exc:
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
