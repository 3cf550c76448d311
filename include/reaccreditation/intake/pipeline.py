"""One sweep of the inbox: every file checked, read, validated, recorded and moved out, independently.

A file that fails at any step becomes a rejected (or quarantined) outcome with a message; it never
stops the others. GX runs once over all readable files of the sweep. Each file's outcome is committed
to the database *before* its inbox copy is removed; the original is archived content-addressed first
(``archive/sha[:2]/sha + suffix``), so a crash in between only means the file is seen again next sweep
and recognised by its SHA-256.
"""

from __future__ import annotations

import errno
import fcntl
import gc
import logging
import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError

from reaccreditation.files import sha256_bytes, write_atomic
from reaccreditation.intake import changes, frame, rules, store
from reaccreditation.intake.issues import Issue
from reaccreditation.intake.reading import ReturnedFile, Unreadable, read_return
from reaccreditation.intake.safety import SAVE_XLSX, SafetyReport, UnsafeFile, check_file
from reaccreditation.intake.store import Outcome
from reaccreditation.mailbox.store import sent_by
from reaccreditation.render import long_date
from reaccreditation.workbook import layout, signature

if TYPE_CHECKING:  # the evidence_intake DAG imports this module when it is parsed
    from reaccreditation.organisation.config import Organisation
    from reaccreditation.settings import Paths

log = logging.getLogger(__name__)

# Lock files of a workbook someone has open (Excel's ~$, LibreOffice's .~lock); every other name is answered,
# a hidden (dot) name too.
IGNORED_PREFIXES = ("~$", ".~lock")
MAX_ISSUES_KEPT = 500


class Unidentified(ValueError):
    """The sender could not be identified: quarantine and tell the quality team."""


class WrongYear(ValueError):
    """The workbook is for another assessment year."""


class BadSeal(ValueError):
    """The workbook's hidden request details are unsigned or were changed: they cannot be trusted."""


class OtherDepartment(ValueError):
    """The file claims a department its sender does not send evidence for: refused, never registered."""

    def __init__(self, claimed: str, by: str) -> None:
        super().__init__(f"the {by} name department {claimed!r}")
        self.claimed, self.by = claimed, by


@dataclass
class Prepared:
    key: int
    path: Path
    data: bytes
    outcome: Outcome
    report: SafetyReport
    returned: ReturnedFile


LOCK_NAME = ".intake.lock"
BIDI_AND_HIDDEN = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\u061c]")
# Our own storage failing (disk full, read-only) is an outage to retry, not a problem with one file.
INFRASTRUCTURE_ERRNOS = {errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.EIO}


def inbox_files(inbox: Path) -> list[Path]:
    """Files waiting in the inbox, oldest first (temporary and lock files are left alone).

    Symbolic links are listed (not followed) so that the sweep can refuse them with a message.
    """
    if not inbox.exists():
        return []
    files = [
        p
        for p in inbox.iterdir()
        if (p.is_symlink() or p.is_file()) and not p.name.startswith(IGNORED_PREFIXES) and not p.name.endswith((".tmp", ".part"))
    ]
    return sorted(files, key=lambda p: (p.lstat().st_mtime, p.name))


def content_key(path: Path, data: bytes) -> str:
    """The SHA-256 a file is known by. Every empty file has the same one, so an empty file is known by its
    name and time instead: two different empty files are two files to answer, not one "already received"."""
    if data:
        return sha256_bytes(data)
    return sha256_bytes(b"empty\0" + os.fsencode(path.name) + b"\0" + str(path.lstat().st_mtime_ns).encode())


def safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:120] or "file"


def display_name(path: Path) -> str:
    """The file name as people and databases can take it: bytes that are not UTF-8 become U+FFFD, and a
    character that reorders or hides text (U+202E right-to-left override, zero-width space) is shown as
    ``[U+202E]``, so a reply's line reads as the name really is."""
    return BIDI_AND_HIDDEN.sub(lambda m: f"[U+{ord(m.group()):04X}]", os.fsencode(path.name).decode("utf-8", "replace"))


def is_infrastructure_error(exc: BaseException) -> bool:
    """An outage of the database or of our own folders: fail the task (it is retried), never blame the file."""
    if isinstance(exc, DBAPIError) and not isinstance(exc, (IntegrityError, DataError)):
        return True
    return isinstance(exc, OSError) and exc.errno in INFRASTRUCTURE_ERRNOS


class SweepLock:
    """One sweep at a time per data root (an exclusive ``flock``; the kernel drops it if the worker dies).

    A second sweep, started while one runs, waits and then finds only the files still waiting.
    """

    def __init__(self, root: Path) -> None:
        self.path = root / LOCK_NAME
        self._fd: int | None = None

    def __enter__(self) -> SweepLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *_: object) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


@contextmanager
def _collector_spared() -> Iterator[None]:
    """Keep Python's cyclic collector to what the sweep allocates.

    Each file makes thousands of small objects (cells, rows, records), and every so many the collector
    walks the older heap too: in a process that holds GX, pandas and Airflow, building the records of
    20,000 rows took 0.33 s instead of 0.09 s (bench_intake.py). What exists before the sweep (and GX,
    once opened) is frozen for its length, then handed back to the collector.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


class Sweep:
    """Process a list of inbox files for one organisation; ``validator`` is created on first need."""

    def __init__(
        self,
        org: Organisation,
        engine: Engine,
        paths: Paths,
        validator_factory: Callable[[], Any],
        *,
        today: date,
        run_id: str | None = None,
        signing_key: bytes = signature.DEMO_KEY,
    ) -> None:
        self.org, self.engine, self.paths = org, engine, paths
        self.signing_key = signing_key
        self.validator_factory = validator_factory
        self.today, self.run_id = today, run_id
        self.departments = {d.id: d for d in org.departments}
        self.standard_ids = [e.id for e in org.standard.elements]
        self._validator: Any = None
        self._checked_links: dict[str, dict[str, Any]] | None = None  # the sweep's links, checked at once
        self._sparing = False  # inside run(): the heap from before is frozen (_collector_spared)

    @property
    def evidence_window(self) -> layout.EvidenceWindow:
        """The window the request workbook's cover states and its cells validate (one rule for all three)."""
        return layout.EvidenceWindow.of(self.org.assessment)

    @property
    def window(self) -> tuple[date, date]:
        w = self.evidence_window
        return w.start, w.last_allowed(self.today)

    @property
    def validated(self) -> bool:
        """True when GX ran in this sweep (so Data Docs are worth rebuilding)."""
        return self._validator is not None

    def validator(self) -> Any:
        if self._validator is None:
            self._validator = self.validator_factory()
            if self._sparing:
                gc.freeze()  # GX's modules and context join the heap the collector leaves alone (run)
        return self._validator

    # -- the sweep ----------------------------------------------------------------------------------

    def run(self, files: Sequence[Path]) -> list[Outcome]:
        """Process ``files`` (listed before the lock: some may be gone when it is ours)."""
        with SweepLock(self.paths.root), _collector_spared():
            self._sparing = True
            try:
                self._remove_temporaries()
                return self._run([*files, *self._take_documents()])
            finally:
                self._sparing = False

    def _take_documents(self) -> list[Path]:
        """Documents dropped in folders in the inbox, kept before any workbook is read; workbooks found in them."""
        from reaccreditation.documents.folder import take_deliveries

        return take_deliveries(self.org, self.engine, self.paths)

    def _remove_temporaries(self) -> None:
        """Temporary files of a sweep that was killed mid-write (``write_atomic``); only intake writes here.

        Safe under the lock: no other sweep is writing, so any ``.*.tmp`` left in these folders is dead.
        """
        folders = [self.paths.archive, self.paths.quarantine, *self.paths.output.glob("*/intake")]
        for folder in folders:
            for tmp in folder.rglob(".*.tmp") if folder.is_dir() else ():
                if tmp.is_file() and not tmp.is_symlink():
                    log.warning("intake: removing %s, left by a sweep that stopped mid-write", tmp)
                    tmp.unlink(missing_ok=True)

    def _run(self, files: Sequence[Path]) -> list[Outcome]:
        done: list[Outcome] = []
        prepared: list[Prepared] = []
        later: list[Path] = []  # a second copy of a file first seen in this sweep
        seen: set[str] = set()
        inbox = self.paths.inbox.resolve()
        for key, path in enumerate(files):
            if path.parent.resolve() != inbox:
                log.warning("intake: %r is not in the inbox %s; refused, not read and left where it is", str(path), inbox)
                continue
            if not path.is_symlink() and not path.exists():
                continue  # taken by a sweep that ran before this one got the lock
            try:
                if path.is_symlink():
                    done.append(self._symlink(path))
                    continue
                data = path.read_bytes()
                sha = content_key(path, data)
                if sha in seen:
                    later.append(path)
                    continue
                seen.add(sha)
                item = self._prepare(key, path, data, sha)
            except Exception as exc:  # noqa: BLE001 - one bad file never stops the others
                if is_infrastructure_error(exc):
                    raise
                log.exception("intake: %s could not be prepared", display_name(path))
                done.append(self._guarded(path, lambda p=path, e=exc: self._internal_error(p, e)))
                continue
            if isinstance(item, Outcome):
                done.append(item)
            else:
                prepared.append(item)
        if prepared:
            issues = self._validate(prepared)
            self._checked_links = self._check_links(prepared, issues)
            for item in prepared:
                done.append(self._guarded(item.path, lambda i=item: self._finish(i, issues.get(i.key, [])), item.outcome))
        for path in later:
            if not path.exists():
                continue
            done.append(self._guarded(path, lambda p=path: self._again(p)))
        return done

    def _guarded(self, path: Path, step: Callable[[], Outcome], known: Outcome | None = None) -> Outcome:
        """``step``, or (when it fails on this file) an internal-error outcome; ``known``: who the file was found to be from."""
        try:
            return step()
        except Exception as exc:  # noqa: BLE001
            if is_infrastructure_error(exc):
                raise
            log.exception("intake: %s failed", display_name(path))
            return self._internal_error(path, exc, known)

    def _prepare(self, key: int, path: Path, data: bytes, sha: str) -> Prepared | Outcome:
        received = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        if store.known_submission(self.engine, sha) is not None:
            return self._left_over(path, data, sha, received) or self._duplicate(path, data, sha)
        outcome = Outcome(sha, display_name(path), received, status="rejected", message="")
        # Decided once, by the mailbox, from who sent it; None for a file the quality team dropped in by hand.
        sent = sent_by(self.engine, sha, display_name(path), received)
        authorised = sent["department_id"] if sent else None
        outcome.submitter = sent["sender"] if sent else "the inbox folder (the quality team)"
        outcome.by_mail = sent is not None  # the mailbox's authenticated sender: a new one's version is held
        try:
            report = check_file(display_name(path), data)
            returned = read_return(display_name(path), data, report)
            self._identify(outcome, returned, authorised)
        except OtherDepartment as exc:
            return self._other_department(path, data, outcome, exc, authorised, sent)
        except (UnsafeFile, Unreadable, WrongYear, BadSeal) as exc:
            if outcome.department_id is None:
                outcome.department_id = authorised
            if outcome.department_id is None:
                self._identify_by_name(outcome)
            outcome.message = f"{display_name(path)}: {exc}"
            if outcome.department_id is None:
                outcome.status = "quarantined"
                outcome.details = {"tried": self._tried(outcome, exc)}
            return self._commit(path, data, outcome)
        except Unidentified as exc:
            outcome.status, outcome.message = "quarantined", f"{display_name(path)}: {exc}"
            outcome.details = {"tried": self._tried(outcome, None)}
            return self._commit(path, data, outcome)
        except Exception as exc:  # noqa: BLE001 - a reader failing on this file is answered, never silent
            if is_infrastructure_error(exc):
                raise
            log.exception("intake: reading %s failed", display_name(path))
            if outcome.department_id is None:
                self._identify_by_name(outcome)
            outcome.message = (
                f"{display_name(path)}: we could not read this file (it holds something our reader does not handle); the "
                f"quality team has been told. Saving it again ({SAVE_XLSX}) and sending that copy usually solves this"
            )
            outcome.details = {"reader_error": f"{type(exc).__name__}: {exc}"[:500]}
            if outcome.department_id is None:
                outcome.status = "quarantined"
                outcome.details["tried"] = self._tried(outcome, exc)
            return self._commit(path, data, outcome)
        return Prepared(key, path, data, outcome, report, returned)

    # -- identification -----------------------------------------------------------------------------

    def _identify(self, outcome: Outcome, returned: ReturnedFile, authorised: str | None = None) -> None:
        """The file's department and year; ``authorised``: the one department its sender may send for.

        A file that came by email is the sender's department's: hidden request details or (without them)
        a file name claiming any other department refuse it. A file dropped in the inbox by hand (the
        quality team's own folder) is identified by its request details, else by its name.
        """
        meta = returned.meta
        year_text = meta.get("assessment_year")
        if authorised is not None:
            if meta.get("department_id"):
                if meta["department_id"] != authorised:
                    raise OtherDepartment(meta["department_id"], "workbook's hidden request details")
            else:
                named = self._named_departments(outcome.original_name) - {authorised}
                if named:
                    raise OtherDepartment(sorted(named)[0], "file")
        if meta.get("department_id") and (problem := signature.verify(self.signing_key, meta)):
            outcome.department_id = authorised
            if meta["department_id"] not in self.departments:
                raise Unidentified(
                    f"the workbook says it comes from department {meta['department_id']!r}, which is not in the organisation "
                    "config"
                )
            if year_text and year_text.split(".")[0] != str(self.org.assessment.year):  # an old year's workbook
                found = year_text.split(".")[0]
                raise WrongYear(
                    f"this workbook is for the {found} assessment; we are collecting evidence for "
                    f"{self.org.assessment.year}: use the {self.org.assessment.year} request workbook"
                )
            raise BadSeal(
                f"this is not a workbook we sent as it was: {problem}, so we cannot tell which department and request it is "
                "for. Please fill in the workbook attached to your request email, or ask the quality team to send it again"
            )
        if meta.get("department_id"):
            outcome.department_id = meta["department_id"]
            outcome.request_reference = meta.get("request_reference") or None
            if outcome.department_id not in self.departments:
                unknown = outcome.department_id
                outcome.department_id = None
                raise Unidentified(
                    f"the workbook says it comes from department {unknown!r}, which is not in the organisation config"
                )
        else:
            self._identify_by_name(outcome)
            if outcome.department_id is None:
                raise Unidentified(
                    "no department could be identified (no hidden request details in the workbook and no department id in the "
                    "file name)"
                )
            m = re.search(r"REQ-(\d{4})-", outcome.original_name, re.IGNORECASE)
            year_text = m.group(1) if m else None
        year = self.org.assessment.year
        if year_text:
            try:
                found = int(float(year_text))
            except ValueError as exc:
                raise WrongYear(f"the workbook's assessment year {year_text!r} is not a year") from exc
            if found != year:
                outcome.assessment_year = found
                raise WrongYear(
                    f"this workbook is for the {found} assessment; we are collecting evidence for {year}: use the {year} request "
                    "workbook"
                )
        outcome.assessment_year = year
        if not outcome.request_reference:
            outcome.request_reference = layout.request_reference(year, outcome.department_id)  # type: ignore[arg-type]

    def _named_departments(self, name: str) -> set[str]:
        """Every department id the file name names, longest first (``housing-repairs`` is not ``housing``)."""
        name, found = name.lower(), set()
        for dept_id in sorted(self.departments, key=len, reverse=True):
            pattern = rf"(?<![a-z0-9]){re.escape(dept_id)}(?![a-z0-9])"
            if re.search(pattern, name):
                found.add(dept_id)
                name = re.sub(pattern, " ", name)
        return found

    def _other_department(
        self,
        path: Path,
        data: bytes,
        outcome: Outcome,
        exc: OtherDepartment,
        authorised: str | None,
        sent: dict[str, Any] | None,
    ) -> Outcome:
        """Refuse and quarantine; the sender hears only about their own department, the quality team all."""
        dept = self.departments[authorised]  # type: ignore[index]
        outcome.status, outcome.department_id = "quarantined", dept.id
        outcome.assessment_year = self.org.assessment.year
        outcome.request_reference = layout.request_reference(self.org.assessment.year, dept.id)
        outcome.message = (
            f"{display_name(path)}: this file is marked for a different department from the one you send evidence for "
            f"({dept.name}), so nothing from it was registered; it is kept for the quality team, who have been told. "
            f"Please send {dept.name}'s own workbook, the one attached to your request email"
        )
        outcome.details = {
            "refused_claim": {
                "claimed": exc.claimed,
                "by": exc.by,
                "authorised": dept.id,
                "sender": (sent or {}).get("sender"),
                "message_id": (sent or {}).get("message_key"),
            },
        }
        log.warning("intake: %s refused: its sender sends evidence for %s only, but %s", outcome.sha256[:12], dept.id, exc)
        return self._commit(path, data, outcome)

    def _tried(self, outcome: Outcome, failure: Exception | None) -> list[str]:
        """What was tried to find the sender, for the quality team's notice."""
        read = "not readable" if failure is not None else "not found or naming no known department"
        return [
            f"the hidden request details inside the workbook: {read}"
            + (f" ({' '.join(str(failure).split())[:200]})" if failure is not None else ""),
            f"a department id in the file name '{outcome.original_name}': none of the {len(self.departments)} departments' "
            "ids appears in it",
            f"who sent it: {outcome.submitter or 'not known'} (the author saved in the file is never used: anyone can set it)",
        ]

    def _identify_by_name(self, outcome: Outcome) -> None:
        name = outcome.original_name.lower()
        for dept_id in sorted(self.departments, key=len, reverse=True):
            if re.search(rf"(?<![a-z0-9]){re.escape(dept_id)}(?![a-z0-9])", name):
                outcome.department_id = dept_id
                outcome.assessment_year = outcome.assessment_year or self.org.assessment.year
                return

    # -- validation ---------------------------------------------------------------------------------

    def _validate(self, prepared: list[Prepared]) -> dict[int, list[Issue]]:
        pairs = [(p.key, p.returned) for p in prepared]
        recs = frame.records(pairs)
        df = frame.evidence_frame(pairs, recs)
        start, end = self.window
        found = self.validator().validate(
            df,
            element_ids=self.standard_ids,
            ratings=self.org.standard.labels,
            window_start=start,
            window_end=end,
            run_name=f"{self.run_id or 'intake'}: {len(prepared)} file(s)",
            window=self.evidence_window,
            today=self.today,
        )
        read_cells = {(p.key, row, key) for p in prepared for row, key in p.returned.error_cells}
        found = [i for i in found if (i.file_key, i.row, i.key) not in read_cells]  # an error cell is not "empty"
        found += [replace(i, file_key=p.key) for p in prepared for i in p.returned.problems]
        owned = {p.key: set(self.departments[p.outcome.department_id].elements) for p in prepared}
        names = {p.key: self.departments[p.outcome.department_id].name for p in prepared}
        found += rules.check(recs, owned, set(self.standard_ids), names, self.org.standard)
        by_file: dict[int, list[Issue]] = defaultdict(list)
        for issue in found:
            by_file[issue.file_key].append(issue)
        self._records = defaultdict(list)
        for r in recs:
            self._records[r["file_key"]].append(r)
        return by_file

    def _check_links(self, prepared: list[Prepared], issues: dict[int, list[Issue]]) -> dict[str, dict[str, Any]] | None:
        """The links of every row that will be accepted, checked in one go for the whole sweep; None when that
        fails, and then each file checks its own (so a failure stays one file's)."""
        from reaccreditation.links.pipeline import check_links, row_links

        urls = []
        for item in prepared:
            bad_rows = {i.row for i in issues.get(item.key, [])}
            accepted = [r for r in self._records[item.key] if r["row_number"] not in bad_rows]
            urls += [u for found in row_links(accepted).values() for u in found]
        try:
            return check_links(self.engine, self.org, urls)
        except Exception as exc:  # noqa: BLE001 - checked again per file, where a failure is that file's
            if is_infrastructure_error(exc):
                raise
            log.exception("intake: checking the sweep's links at once failed; each file checks its own")
            return None

    # -- outcomes -----------------------------------------------------------------------------------

    def _finish(self, item: Prepared, issues: list[Issue]) -> Outcome:
        outcome, returned = item.outcome, item.returned
        bad_rows = {i.row for i in issues}
        recs = self._records[item.key]
        accepted = [r | {"sheet": returned.sheet} for r in recs if r["row_number"] not in bad_rows]
        accepted_rows = {r["row_number"] for r in accepted}
        outcome.rows = accepted
        outcome.rows_total = len(recs)
        outcome.rows_rejected = len(recs) - len(accepted)
        outcome.elements = len({r["element_id"] for r in accepted})
        dept = self.departments[outcome.department_id]  # type: ignore[index]
        covered = {r["element_id"] for r in accepted}
        current = self._current_elements(dept.id)
        documents, document_issues = self._documents(item, accepted)
        ordered = sorted(issues, key=lambda i: (i.row, i.key or ""))
        outcome.details = {
            "issues": [
                {
                    "row": i.row,
                    "column": returned.header_text(i.key) if i.key else "",
                    "problem": i.message,
                    "rule": i.rule,
                    "text": i.located(returned.sheet, returned.header_text(i.key) if i.key else None),
                }
                for i in ordered[:MAX_ISSUES_KEPT]
            ],
            "issue_count": len(issues),
            "notes": returned.notes
            + ([f"columns not recognised and ignored: {', '.join(returned.unknown_headers)}"] if returned.unknown_headers else [])
            + changes.notes(returned, [*returned.changes, *changes.frame_changes(returned, recs)], accepted_rows)
            + [i.located(returned.sheet, returned.header_text(i.key) if i.key else None) for i in document_issues]
            + documents.notes,
            "documents": {str(row): shas for row, shas in documents.tied.items()},
            # elements this file leaves out keep their current evidence (a review round's return has only a few)
            "elements_without_evidence": [e for e in dept.elements if e not in covered and e not in current],
            "failed_elements": sorted({r["element_id"] for r in recs if r["row_number"] in bad_rows and r["element_id"]}),
            "elements": outcome.elements,
            "sheet": returned.sheet,
        }
        if issues or document_issues:
            from reaccreditation.intake.annotate import annotate  # openpyxl: not at DAG parse time

            annotated = annotate(item.data, returned, [*issues, *document_issues], item.report.encoding)
            target = (
                self.paths.output
                / str(outcome.assessment_year)
                / "intake"
                / str(outcome.department_id)
                / f"{outcome.sha256[:12]}-{Path(safe_name(outcome.original_name)).stem}-annotated.xlsx"
            )
            outcome.annotated_path = str(write_atomic(target, annotated))
        if not issues:
            outcome.status = "accepted"
            outcome.message = f"accepted: {len(accepted)} evidence items for {outcome.elements} elements"
        else:
            outcome.status = "partial" if accepted else "rejected"
            outcome.message = (
                f"{len(accepted)} of {len(recs)} evidence rows accepted; {outcome.rows_rejected} row(s) need correcting "
                f"({len(issues)} problem(s))"
                if accepted
                else f"not accepted: all {len(recs)} evidence rows have problems ({len(issues)} in total)"
            )
        return self._commit(item.path, item.data, outcome)

    def _current_elements(self, department_id: str) -> set[str]:
        """Elements the department has current evidence for in the register (before this file)."""
        from sqlalchemy import select

        from reaccreditation.db.schema import evidence

        query = select(evidence.c.element_id).distinct().where(store.current_evidence(department_id, self.org.assessment.year))
        with self.engine.connect() as conn:
            return set(conn.execute(query).scalars())

    def _documents(self, item: Prepared, accepted: list[dict[str, Any]]) -> tuple[Any, list[Issue]]:
        """Rows naming a document that never arrived (commented in the workbook, the row still counts); broken links."""
        from reaccreditation.documents.pipeline import workbook_findings
        from reaccreditation.links.pipeline import broken_notes

        found = workbook_findings(
            self.engine,
            year=item.outcome.assessment_year or self.org.assessment.year,
            department_id=str(item.outcome.department_id),
            workbook_sha=item.outcome.sha256,
            workbook_name=item.outcome.original_name,
            rows=accepted,
        )
        issues = [
            Issue(
                item.key,
                row,
                "link",
                f"names the document {name!r}, which we have not received: attach it to a reply (or put a link here)",
                "document_missing",
            )
            for row, name in found.missing
        ]
        header = item.returned.header_text("link") or "Link or file name"
        found.notes += broken_notes(self.engine, self.org, accepted, item.returned.sheet, header, self._checked_links)
        return found, issues

    def _archive(self, data: bytes, sha: str, name: str) -> Path:
        """Content-addressed by the bytes' own SHA-256: an empty file is known by its name and time
        (``content_key``), but its archived copy is still named for what it holds."""
        sha = sha256_bytes(data)
        target = self.paths.archive / sha[:2] / (sha + Path(name).suffix.lower())
        if not target.exists():
            write_atomic(target, data)
        return target

    def _commit(self, path: Path, data: bytes, outcome: Outcome) -> Outcome:
        outcome.archive_path = str(self._archive(data, outcome.sha256, display_name(path)))
        if outcome.status in ("rejected", "quarantined"):
            folder = self.paths.quarantine / f"{outcome.sha256[:12]}"
            write_atomic(folder / safe_name(display_name(path)), data)
            reason = [outcome.message, *(i["text"] for i in outcome.details.get("issues", []))]
            if claim := outcome.details.get("refused_claim"):
                refused = OtherDepartment(claim["claimed"], claim["by"])
                reason.append(f"refused: sent by {claim['sender']} (authorised for {claim['authorised']}), but {refused}")
            write_atomic(folder / "REASON.txt", ("\n".join(reason) + "\n").encode())
            outcome.quarantine_path = str(folder)
        store.record(self.engine, outcome, run_id=self.run_id)
        path.unlink(missing_ok=True)  # only now: the outcome is committed and the original archived
        return outcome

    def _again(self, path: Path) -> Outcome:
        data = path.read_bytes()
        sha = content_key(path, data)
        received = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        return self._left_over(path, data, sha, received) or self._duplicate(path, data, sha)

    def _left_over(self, path: Path, data: bytes, sha: str, received: datetime) -> Outcome | None:
        """This very file was recorded by a sweep that died before removing it: finish, record nothing new.

        Same content, same name and same modification time as a receipt we hold. Its reply, if the dead
        run never sent it, is owed and goes out with this run's replies (at most once, by its key).
        """
        receipt = store.find_receipt(self.engine, sha, display_name(path), received)
        if receipt is None:
            return None
        sub = store.known_submission(self.engine, sha)
        assert sub is not None
        if receipt["outcome"] == "processed":
            self._archive(data, sha, display_name(path))
        path.unlink(missing_ok=True)
        status = "duplicate" if receipt["outcome"] == "duplicate" else sub["status"]
        log.warning(
            "intake: %s was already recorded (receipt %s) by a run that stopped before removing it",
            display_name(path),
            receipt["id"],
        )
        return Outcome(
            sha,
            display_name(path),
            received,
            status=status,
            message=sub["message"] or "",
            department_id=sub["department_id"],
            assessment_year=sub["assessment_year"],
            submission_id=sub["id"],
            receipt_id=receipt["id"],
        )

    def _duplicate(self, path: Path, data: bytes, sha: str) -> Outcome:
        first = store.known_submission(self.engine, sha)
        assert first is not None
        received = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        outcome = Outcome(
            sha,
            display_name(path),
            received,
            status="duplicate",
            message=f"already received: {first['original_name']} (same content) was received on "
            f"{long_date(first['received_at'])} and {first['status']}",
            department_id=first["department_id"],
            assessment_year=first["assessment_year"],
            request_reference=first["request_reference"],
            submission_id=first["id"],
        )
        stored = self.paths.archive / "duplicates" / f"{received:%Y%m%dT%H%M%S}-{sha[:12]}-{safe_name(display_name(path))}"
        write_atomic(stored, data)  # never a half-copied file, even if the worker dies here
        outcome.receipt_id = store.record_duplicate(
            self.engine, outcome, first["id"], run_id=self.run_id, stored_path=str(stored)
        )
        path.unlink(missing_ok=True)
        return outcome

    def _symlink(self, path: Path) -> Outcome:
        """A symbolic link is never followed: its target may be any file on the server."""
        target = os.readlink(path)
        sha = sha256_bytes(b"symlink\0" + os.fsencode(path.name) + b"\0" + os.fsencode(target))
        if store.known_submission(self.engine, sha) is not None:
            path.unlink()
            return self._duplicate_link(path, sha)
        name = display_name(path)
        outcome = Outcome(
            sha,
            name,
            datetime.fromtimestamp(path.lstat().st_mtime, UTC),
            status="quarantined",
            message=f"{name}: is a link to another file, not a file; links are never followed or read (it was removed from the "
            "inbox)",
        )
        outcome.details = {"notes": ["the link pointed to a path outside the inbox; nothing at that path was read"]}
        folder = self.paths.quarantine / sha[:12]
        write_atomic(
            folder / "REASON.txt",
            (outcome.message + "\nlink target (as text): " + os.fsencode(target).decode("utf-8", "replace") + "\n").encode(),
        )
        outcome.quarantine_path = str(folder)
        store.record(self.engine, outcome, run_id=self.run_id)
        path.unlink()  # removes the link only, never its target
        return outcome

    def _duplicate_link(self, path: Path, sha: str) -> Outcome:
        first = store.known_submission(self.engine, sha)
        assert first is not None
        outcome = Outcome(
            sha,
            display_name(path),
            datetime.now(UTC),
            status="duplicate",
            message="the same link was sent again",
            submission_id=first["id"],
        )
        outcome.receipt_id = store.record_duplicate(self.engine, outcome, first["id"], run_id=self.run_id)
        return outcome

    def _internal_error(self, path: Path, exc: Exception, known: Outcome | None = None) -> Outcome:
        """Our own failure on this file: keep it in quarantine and tell the quality team; when the file was read far
        enough to know its department (``known``), that department is answered too (never with the error's text)."""
        data = path.read_bytes() if path.exists() else b""
        sha = content_key(path, data) if path.exists() else sha256_bytes(data)
        if store.known_submission(self.engine, sha) is not None:
            raise exc
        outcome = Outcome(
            sha,
            display_name(path),
            datetime.now(UTC),
            status="quarantined",
            message=f"{display_name(path)}: could not be processed ({type(exc).__name__}); the quality team will look at it",
        )
        outcome.details = {"internal_error": f"{type(exc).__name__}: {exc}"[:500]}
        if known is not None and known.department_id in self.departments:
            outcome.department_id, outcome.assessment_year = known.department_id, known.assessment_year
            outcome.request_reference, outcome.submitter = known.request_reference, known.submitter
            outcome.message = (
                f"{display_name(path)}: we read this file but could not finish checking it, because of a fault on our side "
                "(not a problem with your file that you need to fix); nothing from it has been registered yet. The quality "
                "team has been told and will check it and come back to you"
            )
        return self._commit(path, data, outcome)


def summary(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """What the sweep did, JSON-safe for XCom and the reply task."""
    return {
        "files": len(outcomes),
        "registered_rows": sum(o.rows_accepted for o in outcomes if o.status in store.REGISTERING),
        "by_status": {s: sum(1 for o in outcomes if o.status == s) for s in sorted({o.status for o in outcomes})},
        "replies": [
            {
                "submission_id": o.submission_id,
                "receipt_id": o.receipt_id,
                "status": o.status,
                "sha256": o.sha256,
                "name": o.original_name,
            }
            for o in outcomes
        ],
    }


# -- the evidence_intake DAG's steps ------------------------------------------------------------------


def sweep_inbox(
    organisation: Callable[[], Organisation],
    engine: Engine,
    paths: Paths,
    today: date,
    run_id: str,
    signing_key: bytes = signature.DEMO_KEY,
) -> dict[str, Any]:
    """Process every file waiting in the inbox; the sweep's summary.

    An empty inbox reads nothing else: not the config, not Great Expectations (~8 s to import).
    """
    files = inbox_files(paths.inbox)
    if not files and not any(p.is_dir() for p in (paths.inbox.iterdir() if paths.inbox.is_dir() else ())):
        return summary([]) | {"data_docs": None}
    from reaccreditation.intake.gx_validation import Validator

    sweep = Sweep(organisation(), engine, paths, Validator, today=today, run_id=run_id, signing_key=signing_key)
    outcomes = sweep.run(files)
    # The checkpoint's UpdateDataDocsAction already wrote this validation's page and the index: a full
    # rebuild here would re-render every validation ever kept, a cost that grows all season.
    docs = sweep.validator().data_docs_index() if sweep.validated else None
    return summary(outcomes) | {"data_docs": docs}


def answer_senders(engine: Engine, org: Organisation, transport: Callable[[Any], None], result: dict, run_id: str) -> int:
    """One email per file, built from its committed record (and any an earlier failed run still owes)."""
    from reaccreditation.intake.replies import send_replies
    from reaccreditation.mailbox.answers import threader

    return send_replies(engine, org, transport, result["replies"], run_id=run_id, thread=threader(engine, org))


def publish_register(engine: Engine, org: Organisation, output: Path) -> tuple[Path | None, int]:
    """The evidence register CSV, written when it changed (see ``register_csv.publish``)."""
    from reaccreditation.intake import register_csv

    return register_csv.publish(engine, org.assessment.year, output)
