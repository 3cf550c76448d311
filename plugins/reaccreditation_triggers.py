"""Refuse DAG runs triggered for a future logical date (an Airflow 3 plugin: one API-server middleware).

A future run would sit at Running with nothing started until its date and block the daily runs; the
trigger form gets a plain reason instead (``reaccreditation.orchestration.triggers``).
"""

from airflow.plugins_manager import AirflowPlugin

from reaccreditation.orchestration.triggers import RefuseFutureRuns


class ReaccreditationTriggersPlugin(AirflowPlugin):
    name = "reaccreditation_triggers"
    fastapi_root_middlewares = [{"middleware": RefuseFutureRuns, "args": [], "kwargs": {}, "name": "Refuse future runs"}]
