from sqlalchemy import inspect, text

from reaccreditation.db import make_engine, upgrade
from reaccreditation.db.schema import metadata

# The migrations must create exactly the tables schema.py declares (each stage adds its own block to both).
TABLES = {"alembic_version"} | set(metadata.tables)


def _head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from reaccreditation.db import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg).get_current_head()


def test_sqlite_schema_is_created_and_upgrade_is_idempotent(tmp_path):
    url = f"sqlite:///{tmp_path / 'p.db'}"
    upgrade(url)
    upgrade(url)
    assert set(inspect(make_engine(url)).get_table_names()) == TABLES


def test_postgresql_gets_the_same_schema(postgres_database):
    upgrade(postgres_database)
    upgrade(postgres_database)
    engine = make_engine(postgres_database)
    assert set(inspect(engine).get_table_names()) == TABLES
    with engine.connect() as conn:
        assert conn.execute(text("select version_num from alembic_version")).scalar() == _head()
    engine.dispose()
