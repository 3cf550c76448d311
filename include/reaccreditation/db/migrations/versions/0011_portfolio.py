"""the assessor's evidence portfolio: its versions and every download of it

Revision ID: 0011
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "portfolio_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assessment_year", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("manifest_sha256", sa.String(length=64), nullable=False),
        sa.Column("zip_path", sa.Text(), nullable=False),
        sa.Column("zip_sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("gaps", sa.JSON(), nullable=False),
        sa.Column("run_id", sa.String(length=250)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portfolio_version")),
        sa.UniqueConstraint("assessment_year", "version", name="uq_portfolio_version_year_version"),
    )
    op.create_table(
        "portfolio_download",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assessment_year", sa.Integer()),
        sa.Column("version", sa.Integer()),
        sa.Column("recipient", sa.String(length=254)),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("client", sa.String(length=100)),
        sa.Column("user_agent", sa.Text()),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portfolio_download")),
    )
    op.create_index("ix_portfolio_download_year_version", "portfolio_download", ["assessment_year", "version"])


def downgrade() -> None:
    op.drop_index("ix_portfolio_download_year_version", table_name="portfolio_download")
    op.drop_table("portfolio_download")
    op.drop_table("portfolio_version")
