"""approval decisions: the sign-off audit becomes append-only and records the digest of what was approved

The ``approval`` table (0005) kept one row per approval task and run, updated on a rerun: a rerun of the
recording step fed with a rewritten XCom turned a rejection into "approved by" the real approver.
``approval_decision`` replaces it: the approval task writes its own rows (a "requested" row with the
SHA-256 of what would be sent, then the answer), the send steps read them, and a trigger refuses any
UPDATE or DELETE (PostgreSQL also TRUNCATE). Existing rows are copied across (with no digest).

Revision ID: 0009
Revises: 0012 (numbered 0009 when the lead assigned it; main's head was 0012_statement when this was rebased)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0012"
branch_labels = None
depends_on = None

COLUMNS = (
    "assessment_year, item_kind, item_ref, subject, dag_id, run_id, task_id, decision, chosen_option, responded_by, "
    "responded_by_name, responded_at, comment, params, recorded_at"
)
REFUSAL = "approval_decision is append-only: a sign-off is never changed or removed; record a new decision instead"


def upgrade() -> None:
    op.create_table(
        "approval_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assessment_year", sa.Integer(), nullable=False),
        sa.Column("item_kind", sa.String(length=40), nullable=False),
        sa.Column("item_ref", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("dag_id", sa.String(length=250), nullable=False),
        sa.Column("run_id", sa.String(length=250), nullable=False),
        sa.Column("task_id", sa.String(length=250), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=False),
        sa.Column("digest", sa.String(length=64)),
        sa.Column("chosen_option", sa.String(length=80)),
        sa.Column("responded_by", sa.String(length=250)),
        sa.Column("responded_by_name", sa.Text()),
        sa.Column("responded_at", sa.DateTime(timezone=True)),
        sa.Column("comment", sa.Text()),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_decision")),
    )
    op.create_index("ix_approval_decision_task", "approval_decision", ["dag_id", "run_id", "task_id"])
    op.create_index("ix_approval_decision_item", "approval_decision", ["assessment_year", "item_kind"])
    op.execute(f"INSERT INTO approval_decision ({COLUMNS}) SELECT {COLUMNS} FROM approval ORDER BY recorded_at, id")
    op.drop_index("ix_approval_item", table_name="approval")
    op.drop_table("approval")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION approval_decision_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{REFUSAL}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER approval_decision_append_only BEFORE UPDATE OR DELETE ON approval_decision "
            "FOR EACH ROW EXECUTE FUNCTION approval_decision_append_only()"
        )
        op.execute(
            "CREATE TRIGGER approval_decision_no_truncate BEFORE TRUNCATE ON approval_decision "
            "FOR EACH STATEMENT EXECUTE FUNCTION approval_decision_append_only()"
        )
    else:  # SQLite
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER approval_decision_no_{verb.lower()} BEFORE {verb} ON approval_decision "
                f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER approval_decision_no_truncate ON approval_decision")
        op.execute("DROP TRIGGER approval_decision_append_only ON approval_decision")
        op.execute("DROP FUNCTION approval_decision_append_only()")
    else:
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER approval_decision_no_{verb}")
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
    # the latest answer per task and run (the old table's one row)
    op.execute(
        f"INSERT INTO approval ({COLUMNS}) SELECT {COLUMNS} FROM approval_decision WHERE id IN "
        "(SELECT MAX(id) FROM approval_decision WHERE decision <> 'requested' GROUP BY dag_id, run_id, task_id)"
    )
    op.drop_table("approval_decision")
