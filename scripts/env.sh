# Environment of the embedded default (SQLite + LocalExecutor + local SMTP sink), sourced by the scripts.
# Override any variable before sourcing to point at another deployment.
ROOT="${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
export ROOT
export PATH="$ROOT/.venv/bin:$PATH"
export PYTHONPATH="$ROOT/include:$ROOT${PYTHONPATH:+:$PYTHONPATH}"  # include/: the project; $ROOT: devtools/
export VAR="${VAR:-$ROOT/var}"
export AIRFLOW_HOME="${AIRFLOW_HOME:-$VAR/airflow}"
export AIRFLOW__CORE__DAGS_FOLDER="$ROOT/dags"
export AIRFLOW__CORE__PLUGINS_FOLDER="$ROOT/plugins"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__EXECUTOR="${AIRFLOW__CORE__EXECUTOR:-LocalExecutor}"
export AIRFLOW__CORE__DEFAULT_TIMEZONE="${AIRFLOW__CORE__DEFAULT_TIMEZONE:-Europe/London}"
export AIRFLOW__LOGGING__LOGGING_LEVEL="${AIRFLOW__LOGGING__LOGGING_LEVEL:-WARNING}"
export GX_ANALYTICS_ENABLED=false
export SMTP_SINK_PORT="${SMTP_SINK_PORT:-8025}"
export REACCREDITATION_CONFIG="${REACCREDITATION_CONFIG:-$VAR/demo/organisation.yaml}"
export REACCREDITATION_DATA="${REACCREDITATION_DATA:-$VAR/data}"
export REACCREDITATION_OUTBOX="${REACCREDITATION_OUTBOX:-$VAR/outbox}"
export AIRFLOW_CONN_SMTP_DEFAULT="${AIRFLOW_CONN_SMTP_DEFAULT:-{\"conn_type\":\"smtp\",\"host\":\"127.0.0.1\",\"port\":$SMTP_SINK_PORT,\"extra\":{\"disable_ssl\":true,\"disable_tls\":true,\"from_email\":\"Reaccreditation <quality@kestrelvale.example.org>\",\"retry_limit\":2}}}"
export AIRFLOW_CONN_REACCREDITATION_DB="${AIRFLOW_CONN_REACCREDITATION_DB:-{\"conn_type\":\"sqlite\",\"host\":\"$VAR/reaccreditation.db\"}}"
# The demo's public workbook signing key (workbook.signature.DEMO_KEY); a real deployment sets its own secret.
export AIRFLOW_VAR_REACCREDITATION_SIGNING_KEY="${AIRFLOW_VAR_REACCREDITATION_SIGNING_KEY:-reaccreditation-demo-signing-key: not a secret, never use it for a real organisation}"
