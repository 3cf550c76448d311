"""Diaries as people keep them: a real CalDAV server (Radicale) and published iCalendar files on a local web server.

The assessment in these tests is three days from Monday 15 March 2027, 09:00-17:00 Europe/London.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as clock
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from ...conftest import _free_port

LONDON = ZoneInfo("Europe/London")
DAYS = (date(2027, 3, 15), date(2027, 3, 16), date(2027, 3, 17))
DAY_START, DAY_END = clock(9), clock(17)
SECRET = "SECRET-Tribunal-hearing-Mr-Jones"  # planted in every diary: must never come out


def at(day: int, hh: int, mm: int = 0) -> datetime:
    """Day 1..3 of the assessment at hh:mm in London."""
    return datetime.combine(DAYS[day - 1], clock(hh, mm), LONDON)


def calendar(*components: str) -> bytes:
    body = "".join(components)
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Tests//Diaries//EN\r\n{body}END:VCALENDAR\r\n".encode()


def event(uid: str, *lines: str) -> str:
    secret = f"SUMMARY:{SECRET}\r\nDESCRIPTION:{SECRET} notes\r\nLOCATION:{SECRET} court\r\n"
    attendee = f"ATTENDEE;CN={SECRET}:mailto:jones@example.org\r\n"
    return (
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20270101T000000Z\r\n{secret}{attendee}"
        + "".join(line + "\r\n" for line in lines)
        + "END:VEVENT\r\n"
    )


@dataclass
class WebDiaries:
    """A local web server publishing diaries: ``files[path] = bytes``, ``slow[path] = seconds`` before answering."""

    base: str
    files: dict[str, bytes] = field(default_factory=dict)
    slow: dict[str, float] = field(default_factory=dict)
    hits: Counter[str] = field(default_factory=Counter)

    def url(self, path: str) -> str:
        return f"{self.base}{path}"


@pytest.fixture(scope="session")
def web_diaries() -> Iterator[WebDiaries]:
    port = _free_port()
    web = WebDiaries(base=f"http://127.0.0.1:{port}")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            path = self.path.split("?")[0]
            web.hits[path] += 1
            if path in web.slow:
                time.sleep(web.slow[path])
            if path.startswith("/moved/"):
                self.send_response(302)
                self.send_header("Location", path.removeprefix("/moved"))
                self.end_headers()
                return
            body = web.files.get(path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html" if body.startswith(b"<") else "text/calendar")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def do_PROPFIND(self) -> None:  # noqa: N802 (a hostile "CalDAV server": whatever it was given, as XML)
            self.do_REPORT()

        def do_REPORT(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = web.files.get(self.path, b"")
            web.hits[self.path] += 1
            self.send_response(207)
            self.send_header("Content-Type", "application/xml; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield web
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def web(web_diaries: WebDiaries) -> WebDiaries:
    web_diaries.files.clear()
    web_diaries.slow.clear()
    web_diaries.hits.clear()
    return web_diaries


@dataclass(frozen=True)
class CalDavServer:
    base: str
    passwords: dict[str, str]

    def calendar_url(self, user: str) -> str:
        return f"{self.base}/{user}/work/"


# What each CalDAV user's diary holds (as put in with the caldav client), and the busy times it must give.
CALDAV_DIARIES = {
    "priya": [
        event("p-court", "DTSTART;TZID=Europe/London:20270315T100000", "DTEND;TZID=Europe/London:20270315T123000"),
        event("p-free", "DTSTART:20270315T140000Z", "DTEND:20270315T150000Z", "TRANSP:TRANSPARENT"),
        event("p-off", "DTSTART:20270316T140000Z", "DTEND:20270316T150000Z", "STATUS:CANCELLED"),
        event("p-standup", "DTSTART;TZID=Europe/London:20270301T090000", "DURATION:PT30M", "RRULE:FREQ=DAILY;COUNT=30"),
    ],
    "tom": [event("t-leave", "DTSTART;VALUE=DATE:20270317", "DTEND;VALUE=DATE:20270318")],
}
CALDAV_BUSY = {
    "priya": [(at(1, 9), at(1, 9, 30)), (at(1, 10), at(1, 12, 30)), (at(2, 9), at(2, 9, 30)), (at(3, 9), at(3, 9, 30))],
    "tom": [(at(3, 9), at(3, 17))],
}


@pytest.fixture(scope="session")
def caldav_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CalDavServer]:
    """Radicale on 127.0.0.1 (free port, data under tmp), users with passwords, the diaries above put in."""
    import caldav

    folder = tmp_path_factory.mktemp("radicale")
    passwords = {"priya": "priya-pass-1", "tom": "tom-pass-2"}
    (folder / "users").write_text("".join(f"{u}:{p}\n" for u, p in passwords.items()))
    port = _free_port()
    (folder / "config").write_text(
        f"[server]\nhosts = 127.0.0.1:{port}\n"
        f"[auth]\ntype = htpasswd\nhtpasswd_filename = {folder / 'users'}\nhtpasswd_encryption = plain\ndelay = 0\n"
        f"[storage]\nfilesystem_folder = {folder / 'data'}\n[rights]\ntype = owner_only\n[logging]\nlevel = warning\n"
    )
    log = (folder / "log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "radicale", "--config", str(folder / "config")], stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(base + "/", timeout=0.5)
                break
            except httpx.TransportError:
                assert proc.poll() is None, (folder / "log").read_text()
                time.sleep(0.05)
        server = CalDavServer(base, passwords)
        for user, events in CALDAV_DIARIES.items():
            with caldav.DAVClient(url=base + "/", username=user, password=passwords[user]) as client:
                cal = client.principal().make_calendar(name="Work", cal_id="work")
                for component in events:
                    cal.save_event(calendar(component).decode())
        yield server
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def refused_url() -> str:
    """An address where nothing listens (connection refused)."""
    return f"http://127.0.0.1:{_free_port()}/diary.ics"


def write(folder: Path, name: str, data: bytes) -> str:
    (folder / name).write_bytes(data)
    return name


@pytest.fixture(scope="session")
def caldav_without_free_busy(caldav_server: CalDavServer) -> Iterator[tuple[CalDavServer, Counter[str]]]:
    """The same Radicale behind a proxy that refuses free/busy queries (501), as some hosted calendars do."""
    port = _free_port()
    refused: Counter[str] = Counter()

    class Proxy(BaseHTTPRequestHandler):
        def _forward(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.command == "REPORT" and b"free-busy-query" in body:
                refused[self.path] += 1
                self.send_error(501, "free/busy not supported")
                return
            keep = {k: v for k, v in self.headers.items() if k.lower() in ("authorization", "content-type", "depth")}
            answer = httpx.request(self.command, caldav_server.base + self.path, content=body, headers=keep, timeout=10)
            self.send_response(answer.status_code)
            for name in ("Content-Type", "WWW-Authenticate", "DAV"):
                if name in answer.headers:
                    self.send_header(name, answer.headers[name])
            self.send_header("Content-Length", str(len(answer.content)))
            self.end_headers()
            self.wfile.write(answer.content)

        do_GET = do_PROPFIND = do_REPORT = do_OPTIONS = _forward

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Proxy)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield CalDavServer(f"http://127.0.0.1:{port}", caldav_server.passwords), refused
    finally:
        server.shutdown()
        server.server_close()
