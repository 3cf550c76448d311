"""evidence_review: the quality team's judgement of each evidence item, every change kept (append-only)

Revision ID: 0013
Revises: 0009 (main's head when this was rebased: 0009_approval_decisions, which follows 0012)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0009"
branch_labels = None
depends_on = None

REFUSAL = "evidence_review is append-only: record a new change instead (reaccreditation.review.store)"


def upgrade() -> None:
    op.create_table(
        "evidence_review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evidence_id", sa.Integer(), nullable=False),
        sa.Column("assessment_year", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.String(length=100), nullable=False),
        sa.Column("element_id", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("from_state", sa.String(length=20), nullable=False),
        sa.Column("to_state", sa.String(length=20), nullable=False),
        sa.Column("comment", sa.Text()),
        sa.Column("reviewer", sa.String(length=250), nullable=False),
        sa.Column("reviewer_name", sa.Text()),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["evidence_id"], ["evidence.id"], name=op.f("fk_evidence_review_evidence_id_evidence")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_review")),
        sa.UniqueConstraint("evidence_id", "version", name="uq_evidence_review_version"),
    )
    op.create_index(op.f("ix_evidence_review_evidence_id"), "evidence_review", ["evidence_id"])
    op.create_index("ix_evidence_review_year_department", "evidence_review", ["assessment_year", "department_id"])
    # The trail cannot be rewritten from the database either (as approval_decision, 0009).
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION evidence_review_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{REFUSAL}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER evidence_review_append_only BEFORE UPDATE OR DELETE ON evidence_review "
            "FOR EACH ROW EXECUTE FUNCTION evidence_review_append_only()"
        )
        op.execute(
            "CREATE TRIGGER evidence_review_no_truncate BEFORE TRUNCATE ON evidence_review "
            "FOR EACH STATEMENT EXECUTE FUNCTION evidence_review_append_only()"
        )
    else:  # SQLite
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER evidence_review_no_{verb.lower()} BEFORE {verb} ON evidence_review "
                f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER evidence_review_no_truncate ON evidence_review")
        op.execute("DROP TRIGGER evidence_review_append_only ON evidence_review")
        op.execute("DROP FUNCTION evidence_review_append_only()")
    else:
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER evidence_review_no_{verb}")
    op.drop_index("ix_evidence_review_year_department", table_name="evidence_review")
    op.drop_index(op.f("ix_evidence_review_evidence_id"), table_name="evidence_review")
    op.drop_table("evidence_review")
