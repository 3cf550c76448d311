"""gap analysis snapshots (owned by the gap-analysis stage)

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gap_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dag_id", sa.String(length=250), nullable=False),
        sa.Column("run_id", sa.String(length=250), nullable=False),
        sa.Column("assessment_year", sa.Integer(), nullable=False),
        sa.Column("framework", sa.String(length=40), nullable=False),
        sa.Column("assessment_type", sa.String(length=20), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("elements", sa.Integer(), nullable=False),
        sa.Column("ready", sa.Integer(), nullable=False),
        sa.Column("at_risk", sa.Integer(), nullable=False),
        sa.Column("gaps", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gap_snapshot")),
        sa.UniqueConstraint("dag_id", "run_id", name="uq_gap_snapshot_run"),
    )
    op.create_index(op.f("ix_gap_snapshot_assessment_year"), "gap_snapshot", ["assessment_year"], unique=False)
    op.create_table(
        "gap_element",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("element_id", sa.String(length=20), nullable=False),
        sa.Column("criterion_id", sa.String(length=10), nullable=False),
        sa.Column("sub_criterion_id", sa.String(length=10), nullable=False),
        sa.Column("readiness", sa.String(length=10), nullable=False),
        sa.Column("forecast", sa.String(length=40), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("in_focus", sa.Boolean(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["snapshot_id"], ["gap_snapshot.id"], name=op.f("fk_gap_element_snapshot_id_gap_snapshot"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gap_element")),
        sa.UniqueConstraint("snapshot_id", "element_id", name="uq_gap_element_snapshot_element"),
    )
    op.create_index(op.f("ix_gap_element_snapshot_id"), "gap_element", ["snapshot_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_gap_element_snapshot_id"), table_name="gap_element")
    op.drop_table("gap_element")
    op.drop_index(op.f("ix_gap_snapshot_assessment_year"), table_name="gap_snapshot")
    op.drop_table("gap_snapshot")
