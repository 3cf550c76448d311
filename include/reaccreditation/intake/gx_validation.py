"""Great Expectations validation of the evidence rows, with failures mapped back to file and row.

The suite is data (:data:`EXPECTATIONS`) and is committed under ``great_expectations/expectations``
together with one validation definition and one checkpoint; ``python -m
reaccreditation.intake.gx_validation`` rewrites them after a change here. Values that change per
organisation or per run (the element ids of the framework, the evidence window) are suite
parameters, so the committed JSON does not change with the year. The checkpoint asks for
``result_format=COMPLETE`` with ``unexpected_index_column_names=[file_key, row_number]`` and updates
the Data Docs site (``great_expectations/uncommitted/data_docs``), where the quality team sees every
validation. GX is imported only inside these functions (about 8 s): once per task, never per file.
"""

from __future__ import annotations

import logging
import os
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

from reaccreditation.intake.issues import Issue
from reaccreditation.settings import PROJECT_ROOT
from reaccreditation.workbook import layout

SUITE = "evidence_rows"
DATASOURCE = "intake"
ASSET = "evidence_rows"
BATCH_DEFINITION = "whole_sweep"
INDEX_COLUMNS = ["file_key", "row_number"]
LINK_PATTERN = r"^(?:https?://[^\s/?#]+\.[^\s]+|[^\\/:*?\"<>|\r\n]+\.[A-Za-z0-9]{1,5})$"

# (expectation class, keyword arguments): the committed suite is built from exactly this.
EXPECTATIONS: tuple[tuple[str, dict[str, Any]], ...] = (
    *(
        ("ExpectColumnValuesToNotBeNull", {"column": k})
        for k in ("element_id", "evidence_title", "evidence_type", "link", "evidence_date_text", "self_rating")
    ),
    ("ExpectColumnValuesToNotBeNull", {"column": "evidence_date", "meta": {"why": "the date must parse"}}),
    ("ExpectColumnValuesToBeInSet", {"column": "element_id", "value_set": {"$PARAMETER": "element_ids"}}),
    ("ExpectColumnValuesToBeInSet", {"column": "evidence_type", "value_set": list(layout.EVIDENCE_TYPES)}),
    ("ExpectColumnValuesToBeInSet", {"column": "self_rating", "value_set": {"$PARAMETER": "ratings"}}),
    ("ExpectColumnValuesToBeInSet", {"column": "cplus_claim", "value_set": list(layout.YES_NO)}),
    ("ExpectColumnValuesToBeInSet", {"column": "confirm", "value_set": list(layout.CONFIRM_CHOICES)}),
    (
        "ExpectColumnValuesToBeBetween",
        {"column": "evidence_date", "min_value": {"$PARAMETER": "window_start"}, "max_value": {"$PARAMETER": "window_end"}},
    ),
    ("ExpectColumnValuesToMatchRegex", {"column": "link", "regex": LINK_PATTERN}),
    ("ExpectColumnValueLengthsToBeBetween", {"column": "evidence_title", "max_value": layout.MAX_TITLE}),
    *(
        ("ExpectColumnValueLengthsToBeBetween", {"column": k, "max_value": layout.MAX_TEXT})
        for k in ("link", "owner", "cplus_justification", "notes")
    ),
    ("ExpectColumnValueLengthsToBeBetween", {"column": "statement", "max_value": layout.MAX_STATEMENT}),
    (
        "ExpectCompoundColumnsToBeUnique",
        {"column_list": ["file_key", "element_id", "evidence_title", "link", "evidence_date_text"]},
    ),
)


def gx_dir() -> Path:
    return Path(os.environ.get("REACCREDITATION_GX_DIR", PROJECT_ROOT / "great_expectations"))


def _import_gx():  # type: ignore[no-untyped-def]
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    for name in (
        "great_expectations",
        "great_expectations._docs_decorators",
        "great_expectations.core",
        "great_expectations.data_context",
    ):
        logging.getLogger(name).setLevel(logging.WARNING)
    import great_expectations as gx

    return gx


def build_suite(gx):  # type: ignore[no-untyped-def]
    import great_expectations.expectations as gxe

    suite = gx.ExpectationSuite(
        name=SUITE, meta={"about": "Evidence rows of returned evidence workbooks (reaccreditation.intake)"}
    )
    for cls, kwargs in EXPECTATIONS:
        suite.add_expectation(getattr(gxe, cls)(**kwargs))
    return suite


class Validator:
    """An opened GX file context with the evidence checkpoint ready; build one per task."""

    def __init__(self, root: Path | None = None) -> None:
        gx = _import_gx()
        self.gx = gx
        self.context = gx.get_context(mode="file", context_root_dir=str(root or gx_dir()))
        self.checkpoint = self._checkpoint()

    def _checkpoint(self):  # type: ignore[no-untyped-def]
        gx, ctx = self.gx, self.context
        try:
            datasource = ctx.data_sources.get(DATASOURCE)
        except (KeyError, ValueError, gx.exceptions.DataContextError):
            datasource = ctx.data_sources.add_pandas(DATASOURCE)
        try:
            asset = datasource.get_asset(ASSET)
        except LookupError:
            asset = datasource.add_dataframe_asset(ASSET)
        try:
            batch = asset.get_batch_definition(BATCH_DEFINITION)
        except (KeyError, ValueError, LookupError):
            batch = asset.add_batch_definition_whole_dataframe(BATCH_DEFINITION)
        try:
            suite = ctx.suites.get(SUITE)
        except gx.exceptions.DataContextError:
            suite = ctx.suites.add(build_suite(gx))
        try:
            definition = ctx.validation_definitions.get(SUITE)
        except gx.exceptions.DataContextError:
            definition = ctx.validation_definitions.add(gx.ValidationDefinition(name=SUITE, data=batch, suite=suite))
        try:
            return ctx.checkpoints.get(SUITE)
        except gx.exceptions.DataContextError:
            return ctx.checkpoints.add(
                gx.Checkpoint(
                    name=SUITE,
                    validation_definitions=[definition],
                    actions=[gx.checkpoint.UpdateDataDocsAction(name="update_data_docs")],
                    result_format={"result_format": "COMPLETE", "unexpected_index_column_names": INDEX_COLUMNS},
                )
            )

    def validate(  # type: ignore[no-untyped-def]
        self,
        df,
        *,
        element_ids: list[str],
        window_start: date,
        window_end: date,
        run_name: str,
        window: layout.EvidenceWindow | None = None,
        today: date | None = None,
        ratings: list[str] | tuple[str, ...] = (),
    ) -> list[Issue]:
        """Run the checkpoint over the sweep's frame; every unexpected row becomes an :class:`Issue`.

        ``window`` and ``today`` word the date messages (before, after or in the future); the GX bounds are
        ``window_start`` and ``window_end`` (the window's last day allowed today).
        """
        window = window or layout.EvidenceWindow(window_start, window_end)
        today = today or window_end
        if df.empty:
            return []
        from great_expectations.core.run_identifier import RunIdentifier

        params = {
            "element_ids": list(element_ids),
            "ratings": list(ratings),  # the standard's own labels
            "window_start": datetime.combine(window_start, datetime.min.time()),
            "window_end": datetime.combine(window_end, datetime.min.time()),
        }
        result = self.checkpoint.run(
            batch_parameters={"dataframe": df},
            expectation_parameters=params,
            run_id=RunIdentifier(run_name=safe_run_name(run_name)),
        )
        issues: list[Issue] = []
        for validation in result.run_results.values():
            for r in validation.results:
                if r.success:
                    continue
                if r.exception_info and r.exception_info.get("raised_exception"):
                    raise RuntimeError(
                        f"GX expectation {r.expectation_config.type} failed to run: {r.exception_info.get('exception_message')}"
                    )
                kwargs = dict(r.expectation_config.kwargs)
                if kwargs.get("column") == "self_rating":
                    kwargs["value_set"] = list(ratings)  # the standard's labels, for the message
                issues.extend(_issues(r.expectation_config.type, kwargs, r.result, window, today))
        typed = {(int(f), int(n)): t for f, n, t in zip(df["file_key"], df["row_number"], df["evidence_date_text"], strict=True)}
        return _resolve(issues, typed)

    def build_data_docs(self) -> str | None:
        """Re-render every page of the Data Docs site (every validation kept): for a repair, not per run."""
        self.context.build_data_docs()
        return self.data_docs_index()

    def data_docs_index(self) -> str | None:
        """The Data Docs index the checkpoint's UpdateDataDocsAction keeps up to date, its pages made to
        read offline (GX's load their CSS/JS from CDNs: blank without internet)."""
        from reaccreditation.intake.data_docs_offline import make_offline

        site = gx_dir() / "uncommitted" / "data_docs" / "local_site"
        if site.is_dir():
            make_offline(site)
        index = site / "index.html"
        return str(index) if index.exists() else None


def safe_run_name(name: str) -> str:
    """The run name as GX uses it: a folder name and text on the Data Docs index (which shows it raw)."""
    return re.sub(r"[^A-Za-z0-9_.:+() -]", "_", name)[:200] or "intake"


def _issues(kind: str, kwargs: dict[str, Any], result: dict[str, Any], window: layout.EvidenceWindow, today: date) -> list[Issue]:
    out = []
    column = kwargs.get("column")
    hits = result.get("unexpected_index_list") or []
    if kind == "expect_compound_columns_to_be_unique":
        # GX lists every copy; the first stays, the later ones are the duplicates.
        first: dict[tuple, int] = {}
        for hit in sorted(hits, key=lambda h: (int(h["file_key"]), int(h["row_number"]))):
            group = tuple(str(hit.get(c)) for c in kwargs["column_list"])
            row = int(hit["row_number"])
            if group not in first:
                first[group] = row
            else:
                out.append(
                    Issue(
                        int(hit["file_key"]),
                        row,
                        None,
                        f"repeats row {first[group]} (same element, title, link and date): remove the duplicate",
                        kind,
                    )
                )
        return out
    for hit in hits:
        value = hit.get(column) if column else None
        out.append(
            Issue(
                int(hit["file_key"]),
                int(hit["row_number"]),
                _key(column),
                _message(kind, column, value, kwargs, window, today),
                kind,
            )
        )
    return out


def _key(column: str | None) -> str | None:
    return "evidence_date" if column == "evidence_date_text" else column


def _message(
    kind: str, column: str | None, value: Any, kwargs: dict[str, Any], window: layout.EvidenceWindow, today: date
) -> str:
    if kind == "expect_column_values_to_not_be_null":
        if column == "evidence_date":
            return "not-a-date"  # resolved in _drop_shadowed with the typed text
        return "is required but empty"
    shown = _show(value)
    if kind == "expect_column_values_to_be_in_set":
        if column == "element_id":
            return f"{shown} is not an element of the standard (ids look like 1.1.1)"
        choices = layout.COLUMN_BY_KEY[column].choices if column in layout.COLUMN_BY_KEY else ()
        if column == "self_rating":
            choices = tuple(kwargs.get("value_set") or ())
        return f"{shown} is not one of the allowed values: {', '.join(choices)}"
    if kind == "expect_column_values_to_be_between":
        day = value.date() if hasattr(value, "date") else value
        return window.problem(day, today) or f"{day} is outside the evidence window"
    if kind == "expect_column_values_to_match_regex":
        return f"{shown} is neither a web address (https://...) nor a file name (e.g. policy.pdf)"
    if kind == "expect_column_value_lengths_to_be_between":
        return f"is {len(str(value))} characters long; the limit is {kwargs.get('max_value')}"
    return f"{shown} failed {kind}"


def _show(value: Any) -> str:
    text = " ".join(str(value).split())
    return repr(text if len(text) <= 60 else text[:57] + "...")


def _resolve(issues: list[Issue], typed: dict[tuple[int, int], str | None]) -> list[Issue]:
    """A blank date is only "required"; a typed non-date gets "not a date" with what was typed."""
    out = []
    for i in issues:
        if i.message == "not-a-date":
            text = typed.get((i.file_key, i.row))
            if text is None:
                continue
            i = Issue(i.file_key, i.row, i.key, f"{_show(text)} is not a date: use dd/mm/yyyy", i.rule)
        out.append(i)
    return out


def write_committed(root: Path | None = None) -> Path:
    """(Re)write the committed suite, validation definition and checkpoint from :data:`EXPECTATIONS`."""
    gx = _import_gx()
    root = root or gx_dir()
    ctx = gx.get_context(mode="file", context_root_dir=str(root))
    for name in (SUITE,):
        for store in (ctx.checkpoints, ctx.validation_definitions):
            try:
                store.delete(name)
            except Exception:  # noqa: BLE001 - absent is fine
                pass
        try:
            ctx.suites.delete(name)
        except Exception:  # noqa: BLE001
            pass
    v = Validator.__new__(Validator)
    v.gx, v.context = gx, ctx
    v._checkpoint()
    return root


if __name__ == "__main__":
    print(write_committed())
