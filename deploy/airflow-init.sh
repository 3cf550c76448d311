#!/usr/bin/env bash
# One-off initialisation before the Airflow services start: the docker-compose `airflow-init` job runs it
# in the image, and scripts/stack runs it natively, so CI proves the same steps.
#   1. the data folders (inbox, archive, quarantine, output) under REACCREDITATION_DATA;
#   2. `airflow db migrate` (Airflow's metadata database);
#   3. `python -m reaccreditation.db upgrade` (the project database, through AIRFLOW_CONN_REACCREDITATION_DB);
#   4. the `smtp_relay` pool every mail-sending task takes a slot of, sized REACCREDITATION_SMTP_RELAY_SLOTS
#      (default 2): how many SMTP sessions the relay is asked to hold at once (docs/scaling.md);
#   5. the admin's password (AIRFLOW_ADMIN_USER / AIRFLOW_ADMIN_PASSWORD) in the simple auth manager's
#      password file, so a changed password in .env takes effect on the next init;
#   6. as root with AIRFLOW_UID set (compose): hand the writable folders to the Airflow user.
# Every step is idempotent: re-run it after an upgrade to apply new migrations.
set -euo pipefail

: "${REACCREDITATION_DATA:?set REACCREDITATION_DATA (the data folder)}"
for sub in inbox archive quarantine output; do mkdir -p "$REACCREDITATION_DATA/$sub"; done
echo "data folders ready under $REACCREDITATION_DATA"

airflow db migrate
python -m reaccreditation.db upgrade
airflow pools set smtp_relay "${REACCREDITATION_SMTP_RELAY_SLOTS:-2}" \
  "SMTP sessions to the mail relay at once (REACCREDITATION_SMTP_RELAY_SLOTS)"

if [ -n "${AIRFLOW_ADMIN_PASSWORD:-}" ]; then
  file="${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE:?set AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE}"
  mkdir -p "$(dirname "$file")"
  ( umask 077; python - "$file" "${AIRFLOW_ADMIN_USER:-admin}" <<'PY'
import json, os, sys
path, user = sys.argv[1], sys.argv[2]
try:  # keep passwords the api-server generated for other users of SIMPLE_AUTH_MANAGER_USERS
    with open(path) as f:
        passwords = json.loads(f.read() or "{}")
except FileNotFoundError:
    passwords = {}
passwords[user] = os.environ["AIRFLOW_ADMIN_PASSWORD"]
with open(path, "w") as f:
    json.dump(passwords, f)
print(f"password of '{user}' set in {path}")
PY
  )
fi

if [ "$(id -u)" = 0 ] && [ -n "${AIRFLOW_UID:-}" ]; then
  for folder in "$REACCREDITATION_DATA" "${AIRFLOW_HOME:-/opt/airflow}/logs" \
                "$(dirname "${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE:-/nonexistent/x}")"; do
    if [ -d "$folder" ]; then chown -R "$AIRFLOW_UID:0" "$folder"; fi
  done
fi
echo "initialisation done"
