"""A simple auth manager with one user scoped to one DAG, for the plugin's authorisation test.

Airflow's simple auth manager lets a viewer read every DAG, so a per-DAG permission (what FAB or a
council's own auth manager give) is made here: ``outsider`` may read the DAG ``not_ours`` and nothing
else. Loaded by the test API server through ``AIRFLOW__CORE__AUTH_MANAGER``.
"""

from __future__ import annotations

from typing import Any

from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager

OUTSIDER, THEIR_DAG = "outsider", "not_ours"


class ScopedAuthManager(SimpleAuthManager):
    def is_authorized_dag(self, *, method: Any, user: Any, access_entity: Any = None, details: Any = None) -> bool:
        if user.get_name() == OUTSIDER:
            return method == "GET" and details is not None and details.id == THEIR_DAG
        return super().is_authorized_dag(method=method, user=user, access_entity=access_entity, details=details)
