"""approvals: who signed off what in the Airflow UI (owned by the approvals stage)

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "approval",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assessment_year", sa.Integer(), nullable=False),
        sa.Column("item_kind", sa.String(length=40), nullable=False),
        sa.Column("item_ref", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("dag_id", sa.String(length=250), nullable=False),
        sa.Column("run_id", sa.String(length=250), nullable=False),
        sa.Column("task_id", sa.String(length=250), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=False),
        sa.Column("chosen_option", sa.String(length=80)),
        sa.Column("responded_by", sa.String(length=250)),
        sa.Column("responded_by_name", sa.Text()),
        sa.Column("responded_at", sa.DateTime(timezone=True)),
        sa.Column("comment", sa.Text()),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dag_id", "run_id", "task_id", name="uq_approval_task"),
    )
    op.create_index("ix_approval_item", "approval", ["assessment_year", "item_kind"])


def downgrade() -> None:
    op.drop_index("ix_approval_item", table_name="approval")
    op.drop_table("approval")
