"""Documents fixtures: the mailbox's Dovecot server and fixtures, reused."""

from __future__ import annotations

from tests.mailbox.conftest import dovecot, imap, org  # noqa: F401 - fixtures
