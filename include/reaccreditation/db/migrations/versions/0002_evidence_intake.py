"""evidence intake: provenance and reply columns, receipts of every inbox file (owned by the intake stage)

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_reference", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("run_id", sa.String(length=250), nullable=True))
        batch_op.add_column(sa.Column("annotated_path", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("quarantine_path", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("details", sa.JSON(), nullable=True))
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.add_column(sa.Column("confirm", sa.String(length=20), nullable=True))
    op.create_table(
        "intake_receipt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("original_name", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=True),
        sa.Column("run_id", sa.String(length=250), nullable=True),
        sa.Column("stored_path", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["submission_id"], ["submission.id"], name=op.f("fk_intake_receipt_submission_id_submission")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_receipt")),
    )
    with op.batch_alter_table("intake_receipt", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_intake_receipt_sha256"), ["sha256"], unique=False)
        batch_op.create_index(batch_op.f("ix_intake_receipt_submission_id"), ["submission_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("intake_receipt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intake_receipt_submission_id"))
        batch_op.drop_index(batch_op.f("ix_intake_receipt_sha256"))
    op.drop_table("intake_receipt")
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.drop_column("confirm")
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.drop_column("details")
        batch_op.drop_column("quarantine_path")
        batch_op.drop_column("annotated_path")
        batch_op.drop_column("run_id")
        batch_op.drop_column("request_reference")
