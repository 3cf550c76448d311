"""portfolio_revocation: the quality team withdrawing assessors' download links before they expire

Append-only like ``approval_decision`` (0009): a trigger refuses UPDATE and DELETE (PostgreSQL also
TRUNCATE), since removing a row would silently bring the links it withdrew back to life.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

REFUSAL = "portfolio_revocation is append-only: a revocation is never changed or removed; reissue a link instead"


def upgrade() -> None:
    op.create_table(
        "portfolio_revocation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assessment_year", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer()),
        sa.Column("recipient", sa.String(length=254)),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("revoked_by", sa.String(length=250), nullable=False),
        sa.Column("contact", sa.String(length=254), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portfolio_revocation")),
    )
    op.create_index("ix_portfolio_revocation_year", "portfolio_revocation", ["assessment_year"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION portfolio_revocation_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{REFUSAL}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER portfolio_revocation_append_only BEFORE UPDATE OR DELETE ON portfolio_revocation "
            "FOR EACH ROW EXECUTE FUNCTION portfolio_revocation_append_only()"
        )
        op.execute(
            "CREATE TRIGGER portfolio_revocation_no_truncate BEFORE TRUNCATE ON portfolio_revocation "
            "FOR EACH STATEMENT EXECUTE FUNCTION portfolio_revocation_append_only()"
        )
    else:  # SQLite
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER portfolio_revocation_no_{verb.lower()} BEFORE {verb} ON portfolio_revocation "
                f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER portfolio_revocation_no_truncate ON portfolio_revocation")
        op.execute("DROP TRIGGER portfolio_revocation_append_only ON portfolio_revocation")
        op.execute("DROP FUNCTION portfolio_revocation_append_only()")
    else:
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER portfolio_revocation_no_{verb}")
    op.drop_index("ix_portfolio_revocation_year", table_name="portfolio_revocation")
    op.drop_table("portfolio_revocation")
