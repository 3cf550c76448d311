"""Reading people's diaries at plan time: 300 people, each with a published diary of a year's events.

Each diary is what a busy officer's published Outlook calendar holds: 400 one-off events over the year, a weekly
and a daily recurring meeting, in Europe/London with its VTIMEZONE. They are served by a local web server that
waits ``--latency`` seconds before each answer (a remote server's round trip). Measured: ``read_diaries`` as the
plan runs it (MAX_PARALLEL diaries at once), against a baseline reading one diary at a time; and the share of the
time spent parsing (the same files read from disk, no network).

    source scripts/env.sh && python benchmarks/bench_diaries.py [--people 300] [--latency 0.05]
"""

from __future__ import annotations

import argparse
import random
import socket
import sys
import tempfile
import threading
import time
from datetime import date, datetime, timedelta
from datetime import time as clock
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

from measure import load, peak_rss_mib, rss_line

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "include"))

from reaccreditation.timetable.config import TimetableConfig  # noqa: E402
from reaccreditation.timetable.diaries import read, read_diaries  # noqa: E402
from reaccreditation.timetable.diaries.ics import busy_from_ics  # noqa: E402

LONDON = ZoneInfo("Europe/London")
DAYS = tuple(date(2027, 3, 15) + timedelta(days=i) for i in range(5))
TARGET = 10.0  # seconds for 300 diaries: well inside a plan's budget
VTIMEZONE = (
    "BEGIN:VTIMEZONE\r\nTZID:Europe/London\r\n"
    "BEGIN:STANDARD\r\nDTSTART:19701025T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0000\r\n"
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\n"
    "BEGIN:DAYLIGHT\r\nDTSTART:19700329T010000\r\nTZOFFSETFROM:+0000\r\nTZOFFSETTO:+0100\r\n"
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n"
)


def diary(seed: int) -> bytes:
    rnd = random.Random(seed)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN"]
    out = "\r\n".join(lines) + "\r\n" + VTIMEZONE
    first = date(2026, 9, 1)
    for i in range(400):
        day = first + timedelta(days=rnd.randrange(365))
        start = datetime.combine(day, clock(rnd.randrange(8, 17), rnd.choice((0, 30))))
        end = start + timedelta(minutes=rnd.choice((30, 60, 90, 120)))
        out += (
            f"BEGIN:VEVENT\r\nUID:{seed}-{i}@example.org\r\nDTSTAMP:20260901T000000Z\r\nSUMMARY:Busy\r\n"
            f"DTSTART;TZID=Europe/London:{start:%Y%m%dT%H%M%S}\r\nDTEND;TZID=Europe/London:{end:%Y%m%dT%H%M%S}\r\n"
            f"X-MICROSOFT-CDO-BUSYSTATUS:{rnd.choice(('BUSY', 'BUSY', 'OOF', 'FREE'))}\r\nEND:VEVENT\r\n"
        )
    for uid, rule, hour in (("weekly", "FREQ=WEEKLY;BYDAY=TU", 14), ("daily", "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR", 9)):
        out += (
            f"BEGIN:VEVENT\r\nUID:{seed}-{uid}@example.org\r\nDTSTAMP:20260901T000000Z\r\nSUMMARY:Busy\r\n"
            f"DTSTART;TZID=Europe/London:20260901T{hour:02d}0000\r\nDTEND;TZID=Europe/London:20260901T{hour:02d}3000\r\n"
            f"RRULE:{rule}\r\nEND:VEVENT\r\n"
        )
    return (out + "END:VCALENDAR\r\n").encode()


def serve(files: dict[str, bytes], latency: float) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            time.sleep(latency)
            body = files[self.path]
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{port}"


def config(people: list[dict]) -> TimetableConfig:
    group = {"id": "g", "name": "G", "kind": "staff", "departments": ["d"]}
    diaries = {"timeout_seconds": 30, "deadline_seconds": 60}
    return TimetableConfig.model_validate({"groups": [group], "people": people, "diaries": diaries})


def timed(tt: TimetableConfig, folder: Path) -> tuple[float, int]:
    started = time.perf_counter()
    reading = read_diaries(tt, DAYS, LONDON, clock(9), clock(17), config_dir=folder)
    assert not reading.notes, reading.notes[:3]
    return time.perf_counter() - started, sum(len(v) for v in reading.busy.values())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=300)
    parser.add_argument("--latency", type=float, default=0.05)
    args = parser.parse_args()
    print(f"before: {load()}")
    files = {f"/p{i}.ics": diary(i) for i in range(args.people)}
    size = sum(len(b) for b in files.values()) / len(files) / 1000
    server, base = serve(files, args.latency)
    folder = Path(tempfile.mkdtemp(prefix="bench-diaries-"))
    for path, body in files.items():
        (folder / path.lstrip("/")).write_bytes(body)
    by_url = config([{"email": f"p{i}@example.org", "diary": {"ics_url": f"{base}/p{i}.ics"}} for i in range(args.people)])
    by_file = config([{"email": f"p{i}@example.org", "diary": {"ics_file": f"p{i}.ics"}} for i in range(args.people)])
    timed(config(by_url.model_dump(by_alias=True)["people"][:2]), folder)  # warm the imports
    parallel, spans = timed(by_url, folder)
    parse_only, _ = timed(by_file, folder)
    window = (datetime.combine(DAYS[0], clock(9), LONDON), datetime.combine(DAYS[-1], clock(17), LONDON))
    started = time.perf_counter()
    for body in files.values():
        busy_from_ics(body, *window, LONDON, skim=False)
    unskimmed = time.perf_counter() - started
    read.MAX_PARALLEL, width = 1, read.MAX_PARALLEL
    one_at_a_time, _ = timed(by_url, folder)
    server.shutdown()
    n = args.people
    print(f"{n} published diaries of {size:.0f} kB (400 events + 2 recurring each), {args.latency * 1000:.0f} ms per answer")
    print(f"  read_diaries, {width} at once: {parallel:.2f} s ({parallel / n * 1000:.1f} ms a diary), {spans:,} busy intervals")
    print(f"  target < {TARGET:g} s: {'met' if parallel < TARGET else 'NOT MET'} ({parallel / TARGET:.2f} of the target)")
    print(f"  baseline, one at a time: {one_at_a_time:.2f} s ({one_at_a_time / parallel:.1f}x the parallel read)")
    print(f"  parsing only (the same diaries as files): {parse_only:.2f} s; without skimming: {unskimmed:.2f} s")
    print(f"  {rss_line(peak_rss_mib())}")
    print(f"after: {load()}")


if __name__ == "__main__":
    main()
