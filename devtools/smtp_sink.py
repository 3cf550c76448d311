"""A local SMTP server that writes every message it receives as an ``.eml`` file.

The embedded default and the tests deliver real SMTP to it (through the Airflow SMTP provider), so what
a department would receive can be opened from the folder. ``python -m devtools.smtp_sink``.
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import signal
import threading
import time
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

_counter = itertools.count(1)
_lock = threading.Lock()


class EmlWriter:
    """aiosmtpd handler: one file per message, written atomically, named by time and sequence."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content
        data = content if isinstance(content, bytes) else str(content).encode()
        rcpts = "\r\n".join(f"X-Envelope-To: {r}" for r in envelope.rcpt_tos)
        with _lock:
            stamp = time.strftime("%Y%m%dT%H%M%S")
            name = f"{stamp}-{os.getpid()}-{next(_counter):05d}.eml"
        tmp = self.folder / f".{name}.tmp"
        tmp.write_bytes(rcpts.encode() + b"\r\n" + data)
        tmp.replace(self.folder / name)
        return "250 Message accepted for delivery"


def start(folder: Path, host: str = "127.0.0.1", port: int = 8025) -> Controller:
    controller = Controller(EmlWriter(folder), hostname=host, port=port)
    controller.start()
    return controller


def read_outbox(folder: Path) -> list[Path]:
    """Delivered messages, oldest first."""
    return sorted(p for p in Path(folder).glob("*.eml") if re.match(r"^\d{8}T", p.name))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    args = parser.parse_args()
    controller = start(args.dir, args.host, args.port)
    print(f"SMTP sink on {args.host}:{args.port} writing to {args.dir}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
