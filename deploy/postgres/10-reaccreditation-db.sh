#!/usr/bin/env bash
# Create the project database beside Airflow's, on the same PostgreSQL, with its own login.
#
# The postgres image runs this once, on an empty data volume (docker-entrypoint-initdb.d); scripts/stack
# runs the same file against the native server. Re-running it changes nothing (idempotent), so an
# administrator can also run it by hand against an existing server (set PGHOST/PGPORT).
#
# Environment: POSTGRES_USER (superuser to connect as), POSTGRES_DB (database to connect to),
# REACCREDITATION_DB_NAME / REACCREDITATION_DB_USER (default: reaccreditation),
# REACCREDITATION_DB_PASSWORD (required: the password AIRFLOW_CONN_REACCREDITATION_DB uses).
set -euo pipefail
db="${REACCREDITATION_DB_NAME:-reaccreditation}"
user="${REACCREDITATION_DB_USER:-reaccreditation}"
: "${REACCREDITATION_DB_PASSWORD:?set REACCREDITATION_DB_PASSWORD (the project database password, see .env.example)}"

# psql variables (:'name', :"name") quote the values, so a password cannot break out of the SQL.
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
  -v db="$db" -v user="$user" -v password="$REACCREDITATION_DB_PASSWORD" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'user', :'password')
  WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'user') \gexec
SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', :'user', :'password') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'user')
  WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'db') \gexec
SQL
echo "project database '$db' (owner '$user') ready"
