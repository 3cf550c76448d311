#!/usr/bin/env bash
# The compose api-server: Airflow's API and UI with the named users of the organisation config.
# reaccreditation.organisation.airflow_users lists the administrator (AIRFLOW_ADMIN_USER) and every quality
# team member with an airflow_user (role "user"), and gives the new ones a password in the 0600 password
# file without printing it. A restart (`docker compose restart airflow-apiserver`) applies config changes.
set -euo pipefail
users="$(python -m reaccreditation.organisation.airflow_users --admin "${AIRFLOW_ADMIN_USER:-admin}" \
  --passwords "${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE:?set AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE}")"
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS="$users"
echo "api-server users: $users"
exec airflow api-server "$@"
