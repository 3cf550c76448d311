"""What a running task works on: the run's date and id, and the organisation config for that date.

Read from Airflow's task context when a task runs (never at parse time), so DAG files stay cheap to
parse and a config change applies to the next run.
"""

from __future__ import annotations

import os
from datetime import date
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from airflow.sdk import get_current_context

if TYPE_CHECKING:
    from reaccreditation.organisation.config import Organisation


def run_today() -> date:
    """The run's logical date as a date in the organisation's time zone: 'today' for schedule decisions.

    Backfills replay the past. The date is taken in local time (REACCREDITATION_TIMEZONE, default
    Europe/London): between 00:00 and 01:00 UK summer time the UTC date would still be yesterday.
    """
    ctx = get_current_context()
    when = ctx.get("logical_date") or ctx.get("data_interval_end") or ctx["dag_run"].run_after
    return when.astimezone(ZoneInfo(os.environ.get("REACCREDITATION_TIMEZONE", "Europe/London"))).date()


def run_id() -> str:
    return str(get_current_context()["run_id"])


def organisation(today: date | None = None) -> Organisation:
    """The organisation config at the configured path, validated for the run's date."""
    from reaccreditation.organisation.config import load_organisation
    from reaccreditation.settings import config_path

    return load_organisation(config_path(), today=today)


def organisation_today() -> Organisation:
    """The organisation config validated for the run's date (refuses an assessment long past)."""
    return organisation(run_today())


def name_mapped_task(**values: str) -> None:
    """Give a mapped task instance its name in the UI (the DAG's ``map_index_template`` reads these)."""
    get_current_context().update(values)  # type: ignore[typeddict-item]
