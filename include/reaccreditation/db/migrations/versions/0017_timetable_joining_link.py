"""timetable_session.joining_link: a virtual session's joining link, as invited (template or pool)

Revision ID: 0017
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("timetable_session") as batch:
        batch.add_column(sa.Column("joining_link", sa.String(length=500)))


def downgrade() -> None:
    with op.batch_alter_table("timetable_session") as batch:
        batch.drop_column("joining_link")
