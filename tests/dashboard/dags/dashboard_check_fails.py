"""A reaccreditation DAG whose task fails at once (a config error is never retried): drives the failure alert."""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

from reaccreditation.orchestration.policies import default_args


@dag(
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    default_args=default_args(),
    tags=["reaccreditation", "test"],
)
def dashboard_check_fails():
    @task
    def check_config() -> None:
        from reaccreditation.organisation.config import ConfigError

        raise ConfigError("organisation.yaml: departments[1].name: <b>not</b> allowed here")

    check_config()


dashboard_check_fails()
