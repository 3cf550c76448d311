"""portfolio_revocation: the quality team withdrawing assessors' download links before they expire

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


def downgrade() -> None:
    op.drop_index("ix_portfolio_revocation_year", table_name="portfolio_revocation")
    op.drop_table("portfolio_revocation")
