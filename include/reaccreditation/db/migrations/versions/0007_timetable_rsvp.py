"""timetable RSVPs: each attendee's answer to a session invite; what each session last told people

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("timetable_session") as batch:
        batch.add_column(sa.Column("notified", sa.JSON()))
    op.create_table(
        "timetable_rsvp",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assessment_year", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=255), nullable=False),
        sa.Column("session_key", sa.String(length=120)),
        sa.Column("attendee", sa.String(length=254), nullable=False),
        sa.Column("attendee_name", sa.Text()),
        sa.Column("answer", sa.String(length=20), nullable=False),
        sa.Column("sequence", sa.Integer()),
        sa.Column("comment", sa.Text()),
        sa.Column("found_by", sa.String(length=20), nullable=False),
        sa.Column("message_key", sa.String(length=255), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timetable_rsvp")),
        sa.UniqueConstraint("uid", "attendee", name="uq_timetable_rsvp_uid_attendee"),
    )
    op.create_index(op.f("ix_timetable_rsvp_assessment_year"), "timetable_rsvp", ["assessment_year"])


def downgrade() -> None:
    op.drop_index(op.f("ix_timetable_rsvp_assessment_year"), table_name="timetable_rsvp")
    op.drop_table("timetable_rsvp")
    with op.batch_alter_table("timetable_session") as batch:
        batch.drop_column("notified")
