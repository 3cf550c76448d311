"""The link-check step: check what is due, keep the results, word the broken ones for a department."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from reaccreditation.documents.matching import links
from reaccreditation.links import store
from reaccreditation.links.check import check
from reaccreditation.organisation.config import Organisation


def check_links(
    engine: Engine, org: Organisation, urls: Iterable[str], *, now: datetime | None = None
) -> dict[str, dict[str, Any]]:
    """Check the links not checked lately; every link's last result."""
    now = now or datetime.now(UTC)
    wanted = list(dict.fromkeys(urls))
    if not wanted:
        return {}
    known = store.results(engine, wanted)
    due = store.due(known, wanted, now)
    if due:
        options = org.portfolio
        store.save(
            engine,
            check(
                due,
                internal_hosts=options.internal_hosts,
                timeout=options.link_timeout_seconds,
                concurrency=options.link_concurrency,
            ),
            now,
        )
        known = store.results(engine, wanted)
    return known


def row_links(rows: Iterable[dict[str, Any]]) -> dict[int, list[str]]:
    """Sheet row -> the web links its "Link or file name" cell names."""
    return {r["row_number"]: found for r in rows if (found := links(r.get("link")))}


def broken_notes(
    engine: Engine,
    org: Organisation,
    rows: list[dict[str, Any]],
    sheet: str,
    header: str,
    checked: dict[str, dict[str, Any]] | None = None,
) -> list[str]:
    """One sentence per row whose link does not work, located as intake locates its problems.

    ``checked``: the results of ``check_links`` over (at least) these rows' links, when the caller checked
    the links of several files at once (the intake sweep: one look-up for all its files).
    """
    by_row = row_links(rows)
    if checked is None:
        checked = check_links(engine, org, [u for urls in by_row.values() for u in urls])
    notes = []
    for row, urls in sorted(by_row.items()):
        for url in urls:
            result = checked.get(url)
            if result and result["status"] == "broken":
                notes.append(
                    f"Sheet {sheet}, row {row}, column '{header}': the link {url} does not work ({result['detail']}); "
                    "please correct it or send the document itself"
                )
    return notes
