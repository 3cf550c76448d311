"""Import past assessor outcomes (CSV or xlsx) into ``assessment_outcome``: the history the gap rules use.

One row per element per past assessment: assessment_year, framework, assessment_type, element_id, rating,
action. The whole file is checked first and nothing is written if any row is wrong; the error names the
file, row and column of every problem. Import is an upsert by (year, element), so re-importing the same
file changes nothing and a corrected file replaces the ratings it covers.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select, update

from reaccreditation.db.schema import assessment_outcome
from reaccreditation.standards import StandardError, available, load_standard

COLUMNS = ("assessment_year", "framework", "assessment_type", "element_id", "rating", "action")
REQUIRED = COLUMNS[:5]
ASSESSMENT_TYPES = ("full", "surveillance")
MAX_PROBLEMS = 50  # list this many, then count the rest: a wrong file should not produce a wall of text
# One row per element per year: a century of Charter Mark's 63 elements is 6,300 rows. The limits stop a
# hostile or broken file (a sheet declaring a million rows, a huge upload) before it is read.
MAX_ROWS = 10_000
MAX_COLUMNS = 50
MAX_BYTES = 20_000_000  # a 10,000-row outcomes file is well under 1 MB


class HistoryError(ValueError):
    """The outcomes file cannot be imported; the message names each problem's row and column."""


HISTORY_FOLDER = "history"  # beside the organisation config: where outcomes files are put to be imported


def history_file(name: str, config_dir: Path) -> Path:
    """The outcomes file ``name`` names, which must lie in the history folder beside the config.

    A relative name is read beside the config (``history/outcomes.csv``); anything that resolves outside
    ``<config folder>/history`` (``../``, another absolute path, a symlink out) is refused before it is
    opened, so no other file on the worker can be read into the task log.
    """
    folder = (config_dir / HISTORY_FOLDER).resolve()
    target = Path(name.strip())
    try:
        resolved = (target if target.is_absolute() else config_dir / target).resolve()
    except (OSError, RuntimeError, ValueError):
        resolved = None
    if resolved is None or not resolved.is_relative_to(folder) or resolved == folder:
        raise HistoryError(
            f"path {name.strip()!r}: outcomes files are read only from the history folder beside the organisation "
            f"config ({folder}); put the file there and give its name, e.g. {HISTORY_FOLDER}/outcomes.csv"
        )
    return resolved


@dataclass(frozen=True)
class OutcomeRow:
    assessment_year: int
    framework: str
    assessment_type: str
    element_id: str
    rating: str  # the standard's label
    action: str | None
    source: str


@dataclass
class ImportResult:
    file: str
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    years: list[int] = field(default_factory=list)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())


def read_table(path: Path) -> tuple[str, list[tuple[int, dict[str, str]]]]:
    """Rows of the file as (spreadsheet row number, {column: text}); the first row is the header.

    Returns a location prefix for messages (the file, and the sheet for xlsx).
    """
    suffix = path.suffix.lower()
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise HistoryError(f"{path.name}: {size:,} bytes is too large for an outcomes file (at most {MAX_BYTES:,})")
    if suffix == ".csv":
        text = path.read_bytes().decode("utf-8-sig")
        reader = csv.reader(io.StringIO(text))
        raw = [(i, row) for i, row in enumerate(reader, 1)]
        where = path.name
    elif suffix in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        try:
            wb = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many types for a damaged package
            raise HistoryError(f"{path.name}: not a readable xlsx workbook ({exc.__class__.__name__}: {exc})") from None
        try:
            if not wb.sheetnames:
                raise HistoryError(
                    f"{path.name}: the workbook has no sheets (a Strict Open XML file?); save it as a normal .xlsx"
                )
            name = "outcomes" if "outcomes" in wb.sheetnames else wb.sheetnames[0]
            ws = wb[name]
            if (ws.max_row or 0) > MAX_ROWS + 1:
                raise HistoryError(
                    f"{path.name} sheet '{name}': the sheet declares {ws.max_row:,} rows; an outcomes file has at most "
                    f"{MAX_ROWS:,} (delete the empty rows below the data, or save the sheet as CSV)"
                )
            rows_read = ws.iter_rows(max_row=MAX_ROWS + 1, max_col=MAX_COLUMNS, values_only=True)
            raw = [(i, [_text(v) for v in row]) for i, row in enumerate(rows_read, 1)]
        finally:
            wb.close()
        where = f"{path.name} sheet '{name}'"
    else:
        raise HistoryError(f"{path.name}: expected a .csv or .xlsx file of outcomes")
    raw = [(i, row) for i, row in raw if any(_text(v) for v in row)]
    if len(raw) > MAX_ROWS + 1:
        raise HistoryError(f"{where}: {len(raw) - 1:,} rows; an outcomes file has at most {MAX_ROWS:,}")
    if not raw:
        raise HistoryError(f"{where}: the file is empty; expected a header row with {', '.join(COLUMNS)}")
    header_row, header = raw[0]
    names = [_text(h).lower().replace(" ", "_") for h in header]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise HistoryError(
            f"{where}: row {header_row}: missing column(s) {', '.join(missing)}; the header has "
            f"{', '.join(n for n in names if n) or 'nothing'}"
        )
    rows = []
    for number, row in raw[1:]:
        values = {n: _text(row[i]) if i < len(row) else "" for i, n in enumerate(names) if n in COLUMNS}
        rows.append((number, values))
    if not rows:
        raise HistoryError(f"{where}: no outcome rows below the header")
    return where, rows


def check_rows(where: str, rows: list[tuple[int, dict[str, str]]], today: date | None = None) -> list[OutcomeRow]:
    """Validate every row; raise one HistoryError listing all problems, else return the typed rows."""
    problems: list[str] = []
    out: list[OutcomeRow] = []
    seen: dict[tuple[int, str], int] = {}
    frameworks = available()

    def bad(number: int, column: str, message: str) -> None:
        problems.append(f"row {number}, column {column}: {message}")

    for number, values in rows:
        ok = True
        framework = values.get("framework", "").lower().replace(" ", "_")
        standard = None
        if framework not in frameworks:
            bad(number, "framework", f"{values.get('framework')!r} is not a framework; expected one of {', '.join(frameworks)}")
            ok = False
        else:
            try:
                standard = load_standard(framework)
            except StandardError as exc:
                bad(number, "framework", str(exc))
                ok = False
        year_text = values.get("assessment_year", "")
        year = int(year_text) if year_text.isdigit() else None
        earliest = standard.introduced if standard else min(load_standard(f).introduced for f in frameworks)
        latest = today.year if today else None
        if year is None or year < earliest or (latest is not None and year > latest):
            span = f"{earliest}..{latest}" if latest else f"{earliest} or later"
            bad(number, "assessment_year", f"{year_text!r} is not an assessment year; expected a year {span}")
            ok = False
        kind = values.get("assessment_type", "").lower()
        if kind not in ASSESSMENT_TYPES:
            bad(
                number,
                "assessment_type",
                f"{values.get('assessment_type')!r} is not an assessment type; expected full or surveillance",
            )
            ok = False
        element_id = values.get("element_id", "")
        if standard is not None and not standard.has_element(element_id):
            bad(number, "element_id", f"unknown element id {element_id!r} for {standard.short_name} (ids look like '1.1.1')")
            ok = False
        rating = values.get("rating", "")
        label = None
        if standard is not None:
            try:
                label = standard.rating(rating).label
            except KeyError:
                choices = ", ".join(r.label for r in standard.ratings)
                bad(number, "rating", f"{rating!r} is not a {standard.short_name} rating; expected one of {choices}")
                ok = False
        if ok and year is not None:
            first = seen.setdefault((year, element_id), number)
            if first != number:
                bad(number, "element_id", f"element {element_id} for {year} is already on row {first}")
                ok = False
        if ok and year is not None and label is not None:
            out.append(
                OutcomeRow(year, framework, kind, element_id, label, values.get("action") or None, f"{where} row {number}")
            )
    if problems:
        shown = problems[:MAX_PROBLEMS]
        more = f"\n  ... and {len(problems) - MAX_PROBLEMS} more" if len(problems) > MAX_PROBLEMS else ""
        raise HistoryError(f"{where}: {len(problems)} problem(s), nothing imported:\n  - " + "\n  - ".join(shown) + more)
    return out


def import_outcomes(engine: Engine, path: Path | str, today: date | None = None) -> ImportResult:
    """Check the whole file, then upsert its outcomes by (year, element) in one transaction."""
    path = Path(path)
    if not path.is_file():
        raise HistoryError(
            f"{path}: file not found (the history file sits beside the organisation config, e.g. history/outcomes.csv)"
        )
    where, raw = read_table(path)
    rows = check_rows(where, raw, today)
    result = ImportResult(file=str(path), rows=len(rows), years=sorted({r.assessment_year for r in rows}))
    keys = {(r.assessment_year, r.element_id) for r in rows}
    with engine.begin() as conn:
        existing = {
            (row.assessment_year, row.element_id): row
            for row in conn.execute(select(assessment_outcome).where(assessment_outcome.c.assessment_year.in_(result.years)))
            if (row.assessment_year, row.element_id) in keys
        }
        fresh = []
        for r in rows:
            old = existing.get((r.assessment_year, r.element_id))
            values = {"framework": r.framework, "assessment_type": r.assessment_type, "rating": r.rating, "action": r.action}
            if old is None:
                fresh.append(values | {"assessment_year": r.assessment_year, "element_id": r.element_id, "source": r.source})
            elif any(getattr(old, k) != v for k, v in values.items()):
                conn.execute(
                    update(assessment_outcome)
                    .where(
                        assessment_outcome.c.assessment_year == r.assessment_year, assessment_outcome.c.element_id == r.element_id
                    )
                    .values(**values, source=r.source)
                )
                result.updated += 1
            else:
                result.unchanged += 1
        if fresh:
            conn.execute(insert(assessment_outcome), fresh)
        result.inserted = len(fresh)
    return result


def load_outcomes(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [
            dict(r) for r in conn.execute(select(assessment_outcome).order_by(assessment_outcome.c.assessment_year)).mappings()
        ]
