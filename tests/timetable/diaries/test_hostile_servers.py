"""Diary servers that never finish: one streams 50 MB, one trickles a byte every half second (from its very
first byte, or once its headers are out), for a published address and for a CalDAV calendar.

Per-read socket timeouts never fire on either, so each read is held to the configured whole-read deadline and
answer size: the person falls back exactly as when their server is down, the note says who, which source and
what to do, and the connection is cut (the server sees the client go) rather than left to a thread reading on.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from reaccreditation.timetable.config import TimetableConfig
from reaccreditation.timetable.diaries import read_diaries

from ...conftest import _free_port
from .conftest import DAY_END, DAY_START, DAYS, LONDON, WebDiaries, at, calendar, event

TIMEOUT, DEADLINE, CAP_MB = 1.0, 1.5, 1  # a trickle's byte every 0.5 s never trips the 1 s per-read timeout
HUGE = 50_000_000
DRIP = 0.5
GROUP = {"id": "housing", "name": "Housing staff", "kind": "staff", "departments": ["housing"]}
FINE = calendar(event("fine", "DTSTART:20270315T100000Z", "DTEND:20270315T110000Z"))


@dataclass
class Hostile:
    """What the hostile server did per path: bytes it managed to send, and when the client went away."""

    base: str
    sent: dict[str, int] = field(default_factory=dict)
    gone_at: dict[str, float] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture(scope="module")
def hostile() -> Iterator[Hostile]:
    port = _free_port()
    state = Hostile(f"http://127.0.0.1:{port}")
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/calendar\r\nConnection: close\r\n\r\n"
    xml_head = b"HTTP/1.1 207 Multi-Status\r\nContent-Type: application/xml\r\nConnection: close\r\n\r\n"

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            path = self.path.split("?")[0]
            first = xml_head if self.command in ("PROPFIND", "REPORT") else head
            state.sent[path] = 0
            try:
                if "/huge" in path:  # status and headers at once, then 50 MB as fast as the client takes it
                    self.wfile.write(first)
                    block = b"BEGIN:VCALENDAR\r\n" + b"X" * (64 * 1024 - 17)
                    while state.sent[path] < HUGE:
                        self.wfile.write(block)
                        state.sent[path] += len(block)
                else:  # a byte every DRIP seconds: from the status line on ("head"), or once the headers are out
                    data = first + FINE
                    if "/trickle-body" in path:
                        self.wfile.write(first)
                        self.wfile.flush()
                        data = FINE
                    for i in range(len(data)):
                        self.wfile.write(data[i : i + 1])
                        self.wfile.flush()
                        state.sent[path] += 1
                        time.sleep(DRIP)
            except (BrokenPipeError, ConnectionResetError):
                state.gone_at[path] = time.monotonic()

        do_GET = do_PROPFIND = do_REPORT = _answer

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def source(kind: str, url: str) -> dict:
    if kind == "ics url":
        return {"ics_url": url}
    return {"caldav": {"url": url, "username": "me", "password_variable": "dav_pw"}}


@pytest.mark.parametrize("kind", ["ics url", "caldav"])
@pytest.mark.parametrize("attack", ["huge", "trickle-head", "trickle-body"])
def test_a_server_that_never_finishes_is_cut_off_and_the_person_falls_back(
    hostile: Hostile, web: WebDiaries, tmp_path: Path, kind: str, attack: str
):
    path = f"/{attack}/{kind.replace(' ', '-')}/"
    web.files["/fine.ics"] = FINE
    tt = TimetableConfig.model_validate(
        {
            "groups": [GROUP],
            "people": [
                {"email": "alan.booth@example.org", "name": "Dr Alan Booth", "diary": source(kind, hostile.url(path))},
                {"email": "ann@example.org", "diary": {"ics_url": web.url("/fine.ics")}},
            ],
            "diaries": {"timeout_seconds": TIMEOUT, "deadline_seconds": DEADLINE, "max_megabytes": CAP_MB},
        }
    )
    started = time.monotonic()
    reading = read_diaries(tt, DAYS, LONDON, DAY_START, DAY_END, config_dir=tmp_path, secrets={"dav_pw": "pw"}.get)
    took = time.monotonic() - started

    assert took < DEADLINE + 1.5, took  # the wall clock of the whole read, not one socket read's
    assert reading.source_of == {"alan.booth@example.org": "typed rules (diary unreachable)", "ann@example.org": "ics url"}
    assert reading.busy == {"alan.booth@example.org": (), "ann@example.org": ((at(1, 10), at(1, 11)),)}
    where = "the published diary" if kind == "ics url" else "the CalDAV calendar"
    (note,) = reading.notes
    assert note.startswith(f"Dr Alan Booth (alan.booth@example.org): {where} at 127.0.0.1 "), note
    if attack == "huge":
        assert "is more than the 1 MB a diary may be (timetable.diaries.max_megabytes): refused" in note
        assert "publish a shorter range of it or raise that limit" in note
    else:
        assert f"was still answering after {DEADLINE:g} seconds, the most one diary may take" in note
        assert "(timetable.diaries.deadline_seconds): stopped" in note and "check the address with the diary's owner" in note
    assert note.endswith("; they have no availability typed in the config, so they are assumed free.")

    # The connection was cut, not abandoned to a thread still reading: the server saw the client go.
    for _ in range(40):
        if path in hostile.gone_at:
            break
        time.sleep(0.05)
    assert path in hostile.gone_at, f"the client is still reading {path} ({hostile.sent.get(path)} bytes sent)"
    assert hostile.gone_at[path] - started < DEADLINE + 1.5
    if attack == "huge":
        assert hostile.sent[path] < 12_000_000  # the cap and what the sockets' buffers held, not 50 MB


def test_the_limits_have_defaults_and_a_deadline_shorter_than_a_silence_is_refused():
    settings = TimetableConfig.model_validate({"groups": [GROUP]}).diaries
    assert (settings.timeout_seconds, settings.deadline_seconds, settings.max_megabytes) == (5, 15, 5)
    assert settings.max_bytes == 5_000_000
    with pytest.raises(ValueError, match=r"deadline_seconds \(3\), the whole read of a diary, must be at least timeout_seconds"):
        TimetableConfig.model_validate({"groups": [GROUP], "diaries": {"timeout_seconds": 5, "deadline_seconds": 3}})
    slow = TimetableConfig.model_validate({"groups": [GROUP], "diaries": {"timeout_seconds": 30}}).diaries
    assert slow.deadline_seconds == 90  # a slow server's config from before the deadline: not refused


def test_a_diary_file_over_the_configured_size_is_refused(tmp_path: Path):
    (tmp_path / "big.ics").write_bytes(FINE + b"X" * 1_100_000)
    tt = TimetableConfig.model_validate(
        {
            "groups": [GROUP],
            "people": [{"email": "ann@example.org", "diary": {"ics_file": "big.ics"}, "availability": [{"day": 2}]}],
            "diaries": {"max_megabytes": CAP_MB},
        }
    )
    reading = read_diaries(tt, DAYS, LONDON, DAY_START, DAY_END, config_dir=tmp_path)
    assert reading.source_of == {"ann@example.org": "typed rules (diary unreachable)"}
    assert reading.notes[0].startswith(
        "ann@example.org: the diary file big.ics is 1.1 MB, more than the 1 MB a diary may be (timetable.diaries.max_megabytes)"
    )
