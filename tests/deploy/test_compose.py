"""The Docker deployment's invariants, checked without a Docker engine: docker-compose.yaml, the Dockerfile,
.env.example, the init scripts, and that scripts/stack (the native stack CI runs) mirrors the compose file.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yaml").read_text())
COMPOSE_TEXT = (ROOT / "docker-compose.yaml").read_text()
SERVICES = COMPOSE["services"]
COMMON = COMPOSE["x-airflow-common"]
COMMON_ENV = COMMON["environment"]

AIRFLOW_SERVICES = [
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
    "airflow-init",
]
LONG_RUNNING = ["postgres", "redis", *AIRFLOW_SERVICES[:-1]]
PROJECT_DIRS = ["dags", "plugins", "include", "great_expectations", "config"]
VAR = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])[^}]*)?\}")


def read_dotenv(path: Path) -> dict[str, str]:
    """KEY=value lines as docker compose reads them (single-quoted values literal)."""
    values = {}
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep, f"{path.name}: not KEY=value: {line!r}"
        if value[:1] == value[-1:] == "'" and len(value) > 1:
            value = value[1:-1]
        values[key.strip()] = value
    return values


ENV_EXAMPLE = read_dotenv(ROOT / ".env.example")


def interpolate(value: str, env: dict[str, str] = ENV_EXAMPLE) -> str:
    """${VAR}, ${VAR:-default} and ${VAR:?message} as docker compose resolves them from .env."""

    def one(m: re.Match[str]) -> str:
        if m.group(1) in env:
            return env[m.group(1)]
        if m.group(2) == ":-":
            return m.group(0)[m.group(0).index(":-") + 2 : -1]
        raise AssertionError(f"{m.group(1)} is required but not set")

    return VAR.sub(one, value)


def test_official_airflow_3_layout_services_are_present() -> None:
    assert set(LONG_RUNNING + ["airflow-init"]) <= set(SERVICES)
    commands = {name: SERVICES[name].get("command") for name in AIRFLOW_SERVICES[:-1]}
    assert commands == {
        "airflow-apiserver": ["bash", "/opt/airflow/deploy/api-server.sh"],  # `airflow api-server`, named users
        "airflow-scheduler": "scheduler",
        "airflow-dag-processor": "dag-processor",
        "airflow-triggerer": "triggerer",
        "airflow-worker": "celery worker",
    }


@pytest.mark.parametrize("name", AIRFLOW_SERVICES)
def test_airflow_services_share_the_project_image_and_common_environment(name: str) -> None:
    service = SERVICES[name]
    assert service["build"] == COMMON["build"] == "." and service["image"] == COMMON["image"]
    for key, value in COMMON_ENV.items():
        assert service["environment"].get(key) == value, f"{name}: {key} differs from x-airflow-common"
    assert service["volumes"] == COMMON["volumes"]


def test_celery_executor_with_postgres_metadata_and_redis_broker() -> None:
    assert COMMON_ENV["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    db = urlsplit(interpolate(COMMON_ENV["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]))
    assert (db.scheme, db.hostname, db.path) == ("postgresql+psycopg2", "postgres", "/airflow")
    results = urlsplit(interpolate(COMMON_ENV["AIRFLOW__CELERY__RESULT_BACKEND"]))
    # SQLAlchemy 2.1 maps plain "postgresql" to psycopg 3, which the lock does not install.
    assert (results.scheme, results.hostname) == ("db+postgresql+psycopg2", "postgres")
    broker = urlsplit(COMMON_ENV["AIRFLOW__CELERY__BROKER_URL"])
    assert (broker.scheme, broker.hostname, broker.port) == ("redis", "redis", 6379)
    api = urlsplit(COMMON_ENV["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
    assert (api.hostname, api.port, api.path) == ("airflow-apiserver", 8080, "/execution/")
    assert SERVICES["airflow-apiserver"]["ports"] == ["${AIRFLOW_API_PORT:-8080}:8080"]
    postgres_env = SERVICES["postgres"]["environment"]
    assert postgres_env["POSTGRES_DB"] == "airflow" and postgres_env["POSTGRES_USER"] == db.username == "airflow"


def test_secrets_come_from_env_and_are_required() -> None:
    for key in (
        "AIRFLOW__CORE__FERNET_KEY",
        "AIRFLOW__API_AUTH__JWT_SECRET",
        "AIRFLOW__API__SECRET_KEY",
        "AIRFLOW_CONN_SMTP_DEFAULT",
        "AIRFLOW_CONN_REACCREDITATION_DB",
    ):
        assert re.fullmatch(r"\$\{" + key + r":\?[^}]+\}", COMMON_ENV[key]), f"{key} must be ${{{key}:?...}}"
    for url_key in ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__CELERY__RESULT_BACKEND"):
        assert "${POSTGRES_PASSWORD:?" in COMMON_ENV[url_key]
    assert "${AIRFLOW_ADMIN_PASSWORD:?" in SERVICES["airflow-init"]["environment"]["AIRFLOW_ADMIN_PASSWORD"]


def test_project_folders_and_data_are_mounted_where_the_code_looks() -> None:
    volumes = [v.removesuffix(":ro") for v in COMMON["volumes"]]
    mounts = dict(reversed(v.rsplit(":", 1)) for v in volumes)  # container path -> host source
    assert "${AIRFLOW_PROJ_DIR:-.}/config:/opt/airflow/config:ro" in COMMON["volumes"]  # read-only
    for folder in PROJECT_DIRS:
        assert mounts[f"/opt/airflow/{folder}"] == f"${{AIRFLOW_PROJ_DIR:-.}}/{folder}"
    assert mounts["/opt/airflow/data"] == "${REACCREDITATION_DATA_DIR:-./var/data}"
    assert COMMON_ENV["REACCREDITATION_DATA"] == "/opt/airflow/data"
    assert COMMON_ENV["REACCREDITATION_CONFIG"].endswith(":-/opt/airflow/config/organisation.yaml}")
    assert "/opt/airflow/include" in COMMON_ENV["PYTHONPATH"].split(":")
    # settings.PROJECT_ROOT is two levels above the package: /opt/airflow in the image, as in a checkout.
    assert (ROOT / "include" / "reaccreditation" / "settings.py").exists()
    assert {"dags", "include", "great_expectations"} <= {p.name for p in ROOT.iterdir() if p.is_dir()}


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_long_running_services_have_health_checks_and_restart(name: str) -> None:
    check = SERVICES[name]["healthcheck"]
    assert check["test"][0] in ("CMD", "CMD-SHELL") and check["interval"] and check["retries"] >= 3
    assert SERVICES[name]["restart"] == "always"
    if name == "airflow-scheduler":
        assert COMMON_ENV["AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"] == "true" and "8974/health" in check["test"][-1]
    if name == "airflow-apiserver":
        assert "localhost:8080/api/v2/monitor/health" in check["test"][-1]


@pytest.mark.parametrize("name", AIRFLOW_SERVICES)
def test_airflow_services_wait_for_healthy_dependencies(name: str) -> None:
    depends = SERVICES[name]["depends_on"]
    assert depends["postgres"] == {"condition": "service_healthy"}
    assert depends["redis"] == {"condition": "service_healthy"}
    if name != "airflow-init":
        assert depends["airflow-init"] == {"condition": "service_completed_successfully"}
    if name == "airflow-worker":
        assert depends["airflow-apiserver"] == {"condition": "service_healthy"}
    for service, rule in depends.items():
        assert service in SERVICES and set(rule) == {"condition"}


def test_init_job_migrates_both_databases_and_postgres_creates_the_project_database() -> None:
    init = SERVICES["airflow-init"]
    assert init["command"] == ["bash", "/opt/airflow/deploy/airflow-init.sh"] and init["user"] == "0:0"
    assert "entrypoint" not in init, "keep the image's entrypoint: it waits for the database and sets up the user"
    script = (ROOT / "deploy" / "airflow-init.sh").read_text()
    assert "airflow db migrate" in script and "python -m reaccreditation.db upgrade" in script
    assert "./deploy/postgres:/docker-entrypoint-initdb.d:ro" in SERVICES["postgres"]["volumes"]
    sql_scripts = sorted((ROOT / "deploy" / "postgres").glob("*.sh"))
    assert sql_scripts and all(os.access(p, os.X_OK) for p in sql_scripts)
    assert 'db="${REACCREDITATION_DB_NAME:-reaccreditation}"' in sql_scripts[0].read_text()
    conn = json.loads(ENV_EXAMPLE["AIRFLOW_CONN_REACCREDITATION_DB"])
    assert (conn["conn_type"], conn["host"], conn["schema"], conn["login"]) == (
        "postgres",
        "postgres",
        "reaccreditation",
        "reaccreditation",
    )
    assert conn["password"] == ENV_EXAMPLE["REACCREDITATION_DB_PASSWORD"]


def test_dockerfile_extends_the_official_image_with_the_lock() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    base = re.search(r"^FROM apache/airflow:(\S+)-python3\.11$", dockerfile, re.M)
    assert base, "Dockerfile must extend apache/airflow:<version>-python3.11"
    lock = (ROOT / "requirements.txt").read_text()
    assert f"\napache-airflow=={base.group(1)}\n" in lock, "the lock must pin the base image's Airflow"
    for needed in ("apache-airflow-providers-celery==", "asyncpg==", "psycopg2-binary==", "redis=="):
        assert f"\n{needed}" in lock, f"{needed} missing from requirements.txt (needed by the Celery stack)"
    assert "COPY --chown=airflow:0 requirements.txt" in dockerfile
    assert re.search(r"^RUN (uv )?pip install .*-r /opt/airflow/requirements\.txt", dockerfile, re.M)
    ignore = [
        line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines() if line.strip() and not line.startswith("#")
    ]
    assert ignore[0] == "*", ".dockerignore must be an allowlist (secrets in .env stay out of the image)"
    assert not {"!.env", "!.venv", "!.git", "!var", "!config"} & set(ignore)  # personal data stays out
    assert ".env" in (ROOT / ".gitignore").read_text().splitlines()


def test_env_example_documents_every_variable_the_compose_file_uses() -> None:
    used = {m.group(1) for m in VAR.finditer(COMPOSE_TEXT)}
    assert used - set(ENV_EXAMPLE) == set()
    required = {m.group(1) for m in VAR.finditer(COMPOSE_TEXT) if m.group(2) == ":?"}
    assert {"AIRFLOW__CORE__FERNET_KEY", "POSTGRES_PASSWORD", "AIRFLOW_CONN_SMTP_DEFAULT"} <= required
    smtp = json.loads(ENV_EXAMPLE["AIRFLOW_CONN_SMTP_DEFAULT"])
    assert smtp["conn_type"] == "smtp" and smtp["extra"]["from_email"]
    placeholders = [k for k in required if "CHANGE-ME" not in ENV_EXAMPLE[k]]
    assert placeholders == [], "secrets in .env.example must be CHANGE-ME placeholders"


def test_native_stack_sets_every_variable_of_the_compose_environment() -> None:
    """scripts/stack is what CI runs: it must configure Airflow the way the compose file does."""
    stack = (ROOT / "scripts" / "stack").read_text()
    for key in COMMON_ENV:
        assert re.search(rf"^export {key}=", stack, re.M), f"scripts/stack does not set {key}"
    assert "export AIRFLOW__CORE__EXECUTOR=CeleryExecutor" in stack
    assert "export AIRFLOW__CELERY__RESULT_BACKEND='db+postgresql+psycopg2://" in stack
    assert 'bash "$ROOT/deploy/airflow-init.sh"' in stack and "deploy/postgres/10-reaccreditation-db.sh" in stack
