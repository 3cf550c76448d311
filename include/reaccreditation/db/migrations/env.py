"""Alembic environment: the URL comes from the caller (``reaccreditation.db.upgrade``)."""

from __future__ import annotations

from alembic import context

from reaccreditation.db import make_engine
from reaccreditation.db.schema import metadata

config = context.config
url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")

with make_engine(url).connect() as connection:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
