"""evidence documents (the files departments send beside their workbooks, with provenance) and link checks

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evidence_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assessment_year", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.String(length=100), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("match_name", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=255)),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text()),
        sa.Column("stored_path", sa.Text()),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("mailbox_message_id", sa.Integer()),
        sa.Column("message_key", sa.String(length=255)),
        sa.Column("container", sa.Text()),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["mailbox_message_id"],
            ["mailbox_message.id"],
            name=op.f("fk_evidence_document_mailbox_message_id_mailbox_message"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_document")),
        sa.UniqueConstraint(
            "department_id", "assessment_year", "match_name", "sha256", name="uq_evidence_document_content"
        ),
    )
    for column in ("assessment_year", "department_id", "sha256"):
        op.create_index(op.f(f"ix_evidence_document_{column}"), "evidence_document", [column])
    op.create_table(
        "link_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("http_status", sa.Integer()),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_check")),
        sa.UniqueConstraint("url", name=op.f("uq_link_check_url")),
    )


def downgrade() -> None:
    op.drop_table("link_check")
    for column in ("assessment_year", "department_id", "sha256"):
        op.drop_index(op.f(f"ix_evidence_document_{column}"), table_name="evidence_document")
    op.drop_table("evidence_document")
