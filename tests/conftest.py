"""Test environment: a private Airflow home (SQLite, migrated once), a real SMTP sink, a demo council.

Environment variables are set at import, before anything imports Airflow, so every test and every
``dag.test()`` run sees the same isolated deployment.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "include"))

FIRST_DAY = date(2027, 3, 15)  # a Monday; the demo council's assessment in the tests
DEMO_SIGNING_KEY = "reaccreditation-demo-signing-key: not a secret, never use it for a real organisation"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sqlite_conn(path: Path) -> str:
    return json.dumps({"conn_type": "sqlite", "host": str(path)})


_VAR = Path(tempfile.mkdtemp(prefix="reaccreditation-tests-"))
SMTP_PORT = _free_port()
os.environ.update(
    {
        "AIRFLOW_HOME": str(_VAR / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "GX_ANALYTICS_ENABLED": "false",
        "REACCREDITATION_DATA": str(_VAR / "data"),
        "REACCREDITATION_CONFIG": str(_VAR / "demo" / "organisation.yaml"),
        "AIRFLOW_CONN_SMTP_DEFAULT": json.dumps(
            {
                "conn_type": "smtp",
                "host": "127.0.0.1",
                "port": SMTP_PORT,
                "extra": {
                    "disable_ssl": True,
                    "disable_tls": True,
                    "from_email": "quality@kestrelvale.example.org",
                    "retry_limit": 0,
                },
            }
        ),
        "AIRFLOW_CONN_REACCREDITATION_DB": sqlite_conn(_VAR / "reaccreditation.db"),
        "AIRFLOW_VAR_REACCREDITATION_SIGNING_KEY": DEMO_SIGNING_KEY,  # workbook.signature.DEMO_KEY
        "PYTHONPATH": os.pathsep.join([str(ROOT / "include"), str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
)


@pytest.fixture(scope="session")
def var_dir() -> Path:
    return _VAR


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """Migrate the Airflow metadata DB once per session (dag.test needs it)."""
    result = subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


class Outbox:
    """The local SMTP server's folder, as a person would see it: parsed messages."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def files(self) -> list[Path]:
        from devtools.smtp_sink import read_outbox

        return read_outbox(self.folder)

    def messages(self):  # type: ignore[no-untyped-def]
        import email
        from email import policy

        return [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in self.files()]

    def clear(self) -> None:
        for p in self.files():
            p.unlink()


@pytest.fixture(scope="session")
def smtp_sink() -> Iterator[Outbox]:
    from devtools import smtp_sink

    folder = _VAR / "outbox"
    controller = smtp_sink.start(folder, port=SMTP_PORT)
    try:
        yield Outbox(folder)
    finally:
        controller.stop()


@pytest.fixture
def outbox(smtp_sink: Outbox) -> Outbox:
    smtp_sink.clear()
    return smtp_sink


@pytest.fixture
def project_db(tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated project database for one test, behind the reaccreditation_db connection."""
    from reaccreditation.db import upgrade
    from reaccreditation.orchestration import connections

    path = tmp_path / "reaccreditation.db"
    old = os.environ["AIRFLOW_CONN_REACCREDITATION_DB"]
    os.environ["AIRFLOW_CONN_REACCREDITATION_DB"] = sqlite_conn(path)
    url = f"sqlite:///{path}"
    upgrade(url)
    connections.engine.cache_clear()
    yield url
    os.environ["AIRFLOW_CONN_REACCREDITATION_DB"] = old
    connections.engine.cache_clear()


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[dict[str, Path]]:
    """The demo council for FIRST_DAY, written where the DAGs read the config."""
    from reaccreditation.demo import generate

    folder = tmp_path / "demo"
    paths = generate(folder, FIRST_DAY)
    old = os.environ["REACCREDITATION_CONFIG"], os.environ["REACCREDITATION_DATA"]
    os.environ["REACCREDITATION_CONFIG"] = str(paths["config"])
    os.environ["REACCREDITATION_DATA"] = str(tmp_path / "data")
    yield paths | {"data": tmp_path / "data"}
    os.environ["REACCREDITATION_CONFIG"], os.environ["REACCREDITATION_DATA"] = old


@pytest.fixture
def gx_dir(tmp_path: Path) -> Iterator[Path]:
    """The committed GX context copied aside, so validation results and Data Docs stay in the test's folder."""
    import shutil

    target = tmp_path / "great_expectations"
    shutil.copytree(ROOT / "great_expectations", target, ignore=shutil.ignore_patterns("uncommitted"))
    old = os.environ.get("REACCREDITATION_GX_DIR")
    os.environ["REACCREDITATION_GX_DIR"] = str(target)
    yield target
    if old is None:
        os.environ.pop("REACCREDITATION_GX_DIR", None)
    else:
        os.environ["REACCREDITATION_GX_DIR"] = old


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A real PostgreSQL server (started by scripts/test); in CI its absence is a failure, not a skip."""
    url = os.environ.get("REACCREDITATION_TEST_PG_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("REACCREDITATION_TEST_PG_URL is not set: scripts/test starts PostgreSQL for CI")
        pytest.skip("no PostgreSQL (run the suite with scripts/test)")
    return url


@pytest.fixture
def postgres_database(postgres_url: str) -> Iterator[str]:
    """The URL of a new, empty database on the test PostgreSQL server, dropped after the test."""
    import uuid

    from sqlalchemy import create_engine, text

    name = f"reaccreditation_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield postgres_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
        admin.dispose()


def run_dag(dag_id: str, logical_date: date | None = None):  # type: ignore[no-untyped-def]
    """Run one DAG for real with dag.test() and return the DagRun."""
    import pendulum
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags" / f"{dag_id}.py"))
    assert not bag.import_errors, bag.import_errors
    dag = bag.get_dag(dag_id)
    when = pendulum.datetime(*(logical_date or date.today()).timetuple()[:3], 12, tz="UTC")
    return dag.test(logical_date=when)


@contextmanager
def task_log(caplog: pytest.LogCaptureFixture, logger: str) -> Iterator[None]:
    """Capture what tasks log at INFO under ``logger`` in ``caplog`` (Airflow, configured at WARNING for the
    tests, replaces the root handlers pytest captures with, so the capture is attached to the logger itself)."""
    target = logging.getLogger(logger)
    level = target.level
    target.setLevel(logging.INFO)
    target.addHandler(caplog.handler)
    try:
        yield
    finally:
        target.removeHandler(caplog.handler)
        target.setLevel(level)
