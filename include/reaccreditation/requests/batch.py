"""Departments in batches: one mapped task sends a batch, each department isolated from the others.

A mapped task instance costs Airflow about as much as one department's workbook and email (start-up and
Execution API calls: half of the 0.44 s per department measured in ``dag.test()``, docs/scaling.md), so the
DAG maps over batches of ``requests.batch_size`` departments, not over departments.

Inside a batch, one department's failure (a recipient the relay refuses, a workbook that cannot be built or
stored) is logged with what to do, and the next department goes on. The batch then fails, naming every
department that was not done, so its retry sends what is missing and nothing twice: every email is claimed
under its dedupe key in the request log (``mail.outbox.send_once``) and a sent one is skipped. An outage of
what every department needs (the database, a relay that refuses connections) stops the batch at once:
trying the rest would only fail them the same way.
"""

from __future__ import annotations

import logging
import smtplib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.exc import OperationalError

from reaccreditation.requests.plan import DepartmentWork

log = logging.getLogger(__name__)

# Failures of the shared services, not of one department: the rest of the batch would fail the same way.
OUTAGES: tuple[type[BaseException], ...] = (
    ConnectionError,
    TimeoutError,
    OperationalError,
    smtplib.SMTPConnectError,
    smtplib.SMTPAuthenticationError,
)


@dataclass
class Batch:
    """The departments one mapped task sends to (JSON-ready for mapping)."""

    number: int
    departments: list[DepartmentWork]

    @property
    def label(self) -> str:
        """The mapped task's name in the UI: its first and last department."""
        ids = [d.department_id for d in self.departments]
        return ids[0] if len(ids) == 1 else f"{ids[0]} … {ids[-1]} ({len(ids)})"

    def to_dict(self) -> dict:
        return {"number": self.number, "label": self.label, "departments": [d.to_dict() for d in self.departments]}

    @classmethod
    def from_dict(cls, data: dict) -> Batch:
        return cls(int(data["number"]), [DepartmentWork.from_dict(d) for d in data["departments"]])


def batches(work: Sequence[DepartmentWork], size: int) -> list[Batch]:
    """``work`` in plan order, ``size`` departments a batch (the last may be smaller)."""
    if size < 1:
        raise ValueError(f"batch size must be at least 1, got {size}")
    return [Batch(n, list(work[i : i + size])) for n, i in enumerate(range(0, len(work), size), 1)]


@dataclass(frozen=True)
class Failure:
    department_id: str
    reason: str


class DepartmentsFailed(Exception):
    """Some departments of a batch were not done; the others were. A retry sends only what is missing."""

    def __init__(self, batch: Batch, failures: Sequence[Failure]) -> None:
        self.failures = list(failures)
        lines = "; ".join(f"{f.department_id}: {f.reason}" for f in self.failures)
        super().__init__(
            f"batch {batch.number}: {len(self.failures)} of {len(batch.departments)} department(s) not done ({lines}); "
            "the others were sent, and a retry sends only what is still missing"
        )


def reason(exc: BaseException) -> str:
    """What went wrong for one department, in words a quality team member can act on."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = ", ".join(
            f"{addr} ({code} {msg.decode(errors='replace') if isinstance(msg, bytes) else msg})"
            for addr, (code, msg) in exc.recipients.items()
        )
        return f"the mail server refused {refused}: check the address in the config's departments"
    if isinstance(exc, OSError) and exc.filename:
        where = exc.filename2 or exc.filename  # os.replace(temporary, final): the final path is the one to check
        return f"the workbook could not be stored at {where} ({exc.strerror}): check the output folder"
    return f"{type(exc).__name__}: {exc}"


def carry_out_batch(batch: Batch, send: Callable[[DepartmentWork], dict[str, int]]) -> dict:
    """``send`` each department of ``batch`` in turn; raises :class:`DepartmentsFailed` after the last if any failed."""
    counts: Counter[str] = Counter()
    failures: list[Failure] = []
    for item in batch.departments:
        try:
            counts.update(send(item))
        except OUTAGES:
            log.error("batch %d: stopped at %s: a shared service is down; the retry carries on", batch.number, item.department_id)
            raise
        except Exception as exc:  # one department's problem must not stop the rest of the batch
            failures.append(Failure(item.department_id, reason(exc)))
            log.error("%s: not sent: %s; the batch goes on", item.department_id, failures[-1].reason, exc_info=exc)
    done = len(batch.departments) - len(failures)
    total = len(batch.departments)
    log.info("batch %d: %d of %d department(s) done: %s", batch.number, done, total, dict(counts) or "nothing sent")
    if failures:
        raise DepartmentsFailed(batch, failures)
    return {"batch": batch.number, "departments": done, **counts}
