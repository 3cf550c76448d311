"""The same hostile corpus and a database outage on PostgreSQL (what production runs on).

PostgreSQL is stricter than SQLite (no NUL in text, typed JSON), so the corpus is swept again there.
"Stopped mid-run" is our own database refusing connections and its sessions terminated, on the shared
test server (``postgres_url``), never the server itself.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from reaccreditation.db import make_engine, upgrade
from reaccreditation.intake.pipeline import Sweep, display_name, inbox_files
from reaccreditation.settings import Paths

from .conftest import load_make_hostile
from .test_faults import GOOD, counts, drop_returns


@pytest.fixture
def pg_db(postgres_url: str) -> Iterator[tuple[str, object]]:
    name = f"hardening_{uuid.uuid4().hex[:10]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = postgres_url.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    try:
        yield url, admin
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n AND pid <> pg_backend_pid()"),
                {"n": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def test_hostile_corpus_on_postgresql(pg_db, demo, org, gx_dir, tmp_path, ledger):  # type: ignore[no-untyped-def]
    from reaccreditation.intake.gx_validation import Validator

    url, _ = pg_db
    make = load_make_hostile()
    paths = Paths(demo["data"])
    written = make.build(org, paths.inbox, tmp_path / "outside")
    engine = make_engine(url)
    outcomes = Sweep(org, engine, paths, Validator, today=make.RUN_DAY, run_id="pg").run(inbox_files(paths.inbox))
    got = {o.original_name: (o.status, o.rows_accepted if o.status != "duplicate" else 0) for o in outcomes}
    wrong = []
    for e in make.expected():
        if e["status"] == "refused":
            continue
        name = display_name(written[e["case"]])
        if got.get(name) != (e["status"], int(e["rows_accepted"])):
            wrong.append((e["case"], got.get(name)))
    c = counts(engine)
    engine.dispose()
    ledger.add("postgres", "hostile corpus on PostgreSQL", survived=not wrong)
    assert wrong == [] and list(paths.inbox.iterdir()) == []
    assert c["receipts"] == sum(1 for e in make.expected() if e["status"] != "refused")


def test_postgresql_stopped_mid_sweep(pg_db, demo, org, ledger):  # type: ignore[no-untyped-def]
    from sqlalchemy.exc import OperationalError

    from reaccreditation.intake import store

    from .worker import NoGX

    url, admin = pg_db
    name = url.rsplit("/", 1)[1]
    paths = Paths(demo["data"])
    files = drop_returns(org, paths.inbox, GOOD)
    engine = make_engine(url)
    original = store.record
    calls = {"n": 0}

    def record(*args, **kwargs):  # type: ignore[no-untyped-def]
        out = original(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] == 3:  # our database goes away: new connections refused, open ones killed
            with admin.connect() as conn:
                conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
                conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name})
        return out

    store.record = record
    try:
        with pytest.raises(OperationalError):
            Sweep(org, engine, paths, NoGX, today=load_make_hostile().RUN_DAY, run_id="pg-down").run(inbox_files(paths.inbox))
    finally:
        store.record = original
    assert len(list(paths.inbox.iterdir())) == len(files) - 3
    with admin.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
    Sweep(org, engine, paths, NoGX, today=load_make_hostile().RUN_DAY, run_id="pg-back").run(inbox_files(paths.inbox))
    c = counts(engine)
    engine.dispose()
    lost = sum(n - c["rows_by_file"].get(f, 0) for f, n in files.items())
    ledger.add("postgres", "PostgreSQL database stopped mid-sweep", survived=True, rows_lost=lost)
    assert c["submissions"] == c["receipts"] == len(files) and "quarantined" not in c["statuses"] and lost == 0
