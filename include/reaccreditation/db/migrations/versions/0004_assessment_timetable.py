"""assessment timetable (owned by the timetable stage)

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "timetable_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assessment_year", sa.Integer(), nullable=False),
        sa.Column("session_key", sa.String(length=120), nullable=False),
        sa.Column("uid", sa.String(length=255), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("start_minute", sa.Integer(), nullable=False),
        sa.Column("end_minute", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("site_id", sa.String(length=100), nullable=True),
        sa.Column("room_id", sa.String(length=100), nullable=True),
        sa.Column("assessor", sa.String(length=255), nullable=False),
        sa.Column("attendees", sa.JSON(), nullable=False),
        sa.Column("run_id", sa.String(length=250), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timetable_session")),
        sa.UniqueConstraint("uid", name=op.f("uq_timetable_session_uid")),
        sa.UniqueConstraint("assessment_year", "session_key", name="uq_timetable_session_year_key"),
    )
    op.create_index(op.f("ix_timetable_session_assessment_year"), "timetable_session", ["assessment_year"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_timetable_session_assessment_year"), table_name="timetable_session")
    op.drop_table("timetable_session")
