"""A throwaway Dovecot IMAP server on 127.0.0.1 for the mailbox tests (real IMAP, plain auth, Maildir).

Started from its own configuration in a temporary folder (nothing system-wide is touched); each test
gets a fresh user, so mailboxes never leak between tests. Dovecot re-reads the passwd file on change.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
USERS = 200


def dovecot_binary() -> str | None:
    return shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Dovecot:
    """``tls``: (certificate, key) files: IMAP over TLS (imaps) on ``tls_port`` too, beside plain IMAP on ``port``."""

    def __init__(self, folder: Path, tls: tuple[Path, Path] | None = None) -> None:
        self.folder = folder
        self.port = _free_port()
        self.tls = tls
        self.tls_port = _free_port() if tls else 0
        self.passwd = folder / "passwd"
        self.process: subprocess.Popen | None = None
        self._users = 0
        # Mail is owned by an unprivileged account: Dovecot refuses mail access as root.
        owner = os.getuid()
        if owner == 0:
            owner = pwd.getpwnam("dovecot").pw_uid if _has_user("dovecot") else 65534
        self.uid = owner
        self.gid = pwd.getpwuid(owner).pw_gid

    def config(self) -> str:
        me = pwd.getpwuid(os.getuid()).pw_name
        lines = [
            f"base_dir = {self.folder}/run",
            f"state_dir = {self.folder}/state",
            f"log_path = {self.folder}/dovecot.log",
            "protocols = imap",
            "listen = 127.0.0.1",
            *(["ssl = yes", f"ssl_cert = <{self.tls[0]}", f"ssl_key = <{self.tls[1]}"] if self.tls else ["ssl = no"]),
            "disable_plaintext_auth = no",
            "auth_mechanisms = plain login",
            f"first_valid_uid = {min(self.uid, 1)}",
            "mail_location = maildir:~/Maildir",
            "passdb {\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u " + str(self.passwd) + "\n}",
            f"userdb {{\n  driver = static\n  args = uid={self.uid} gid={self.gid} home={self.folder}/home/%u\n}}",
            f"service imap-login {{\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {self.port}\n  }}\n  "
            f"inet_listener imaps {{\n    address = 127.0.0.1\n    port = {self.tls_port}\n  }}\n}}",
            "service pop3-login {\n  inet_listener pop3 {\n    port = 0\n  }\n  inet_listener pop3s {\n    port = 0\n  }\n}",
        ]
        if os.getuid() != 0:  # unprivileged: everything runs as this user, no chroot
            lines += [
                f"default_login_user = {me}",
                f"default_internal_user = {me}",
                "service imap-login {\n  chroot =\n}",
                "service auth {\n  user = $default_internal_user\n}",
            ]
        return "\n".join(lines) + "\n"

    def start(self) -> Dovecot:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.folder.chmod(0o755)  # the auth and mail processes (unprivileged users) must reach it
        for sub in ("run", "state", "home"):
            (self.folder / sub).mkdir(parents=True, exist_ok=True)
        os.chown(self.folder / "home", self.uid, self.gid)
        # All users up front: Dovecot notices a changed passwd file by its mtime (seconds), too coarse for tests.
        self.passwd.write_text(
            "".join(f"{login}:{{PLAIN}}{password}::::::\n" for login, password in map(self._account, range(1, USERS + 1)))
        )
        conf = self.folder / "dovecot.conf"
        conf.write_text(self.config())
        self.process = subprocess.Popen(
            [dovecot_binary(), "-F", "-c", str(conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    "dovecot stopped: " + (self.process.stdout.read().decode() if self.process.stdout else "") + self.log()
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    if s.recv(100).startswith(b"* OK"):
                        return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"dovecot did not answer on port {self.port}: {self.log()}")

    def log(self) -> str:
        path = self.folder / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    @staticmethod
    def _account(n: int) -> tuple[str, str]:
        return f"quality{n}@kestrelvale.example.org", f"pw-{n}"

    def new_user(self) -> tuple[str, str]:
        """A fresh, empty mailbox: (login, password)."""
        self._users += 1
        if self._users > USERS:
            raise RuntimeError(f"more than {USERS} mailboxes in one session")
        return self._account(self._users)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False
