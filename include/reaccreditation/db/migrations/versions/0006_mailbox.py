"""mailbox: messages read from the quality mailbox and their attachments (owned by the mailbox stage)

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mailbox_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_key", sa.String(length=255), nullable=False),
        sa.Column("folder", sa.String(length=255), nullable=False),
        sa.Column("uid", sa.Integer()),
        sa.Column("uidvalidity", sa.String(length=40)),
        sa.Column("sender", sa.Text()),
        sa.Column("subject", sa.Text()),
        sa.Column("in_reply_to", sa.Text()),
        sa.Column("references", sa.Text()),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("raw_sha256", sa.String(length=64), nullable=False),
        sa.Column("eml_path", sa.Text()),
        sa.Column("department_id", sa.String(length=100)),
        sa.Column("request_reference", sa.String(length=100)),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("handling", sa.String(length=30)),
        sa.Column("reason", sa.Text()),
        sa.Column("answer_key", sa.String(length=255)),
        sa.Column("details", sa.JSON()),
        sa.Column("run_id", sa.String(length=250)),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_mailbox_message"),
        sa.UniqueConstraint("message_key", name="uq_mailbox_message_message_key"),
    )
    op.create_table(
        "mailbox_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mailbox_message_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("content_type", sa.String(length=255)),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("container", sa.Text()),
        sa.Column("handling", sa.String(length=20), nullable=False),
        sa.Column("inbox_name", sa.Text()),
        sa.Column("written_at", sa.DateTime(timezone=True)),
        sa.Column("receipt_id", sa.Integer()),
        sa.PrimaryKeyConstraint("id", name="pk_mailbox_attachment"),
        sa.ForeignKeyConstraint(["mailbox_message_id"], ["mailbox_message.id"], name="fk_mailbox_attachment_mailbox_message_id_mailbox_message"),
        sa.ForeignKeyConstraint(["receipt_id"], ["intake_receipt.id"], name="fk_mailbox_attachment_receipt_id_intake_receipt"),
        sa.UniqueConstraint("mailbox_message_id", "position", name="uq_mailbox_attachment_position"),
    )
    op.create_index("ix_mailbox_attachment_mailbox_message_id", "mailbox_attachment", ["mailbox_message_id"])
    op.create_index("ix_mailbox_attachment_sha256", "mailbox_attachment", ["sha256"])


def downgrade() -> None:
    op.drop_index("ix_mailbox_attachment_sha256", table_name="mailbox_attachment")
    op.drop_index("ix_mailbox_attachment_mailbox_message_id", table_name="mailbox_attachment")
    op.drop_table("mailbox_attachment")
    op.drop_table("mailbox_message")
