"""The project's own database: evidence register, request log, outcomes history.

One SQLAlchemy Core schema serves SQLite (embedded default) and PostgreSQL (production). Change it only
through a new Alembic migration in ``migrations/versions``.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Every email we send. ``dedupe_key`` is claimed before sending, so a rerun, retry or backfill can
# never send the same message twice.
outbound_message = Table(
    "outbound_message",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("dedupe_key", String(255), nullable=False, unique=True),
    Column("assessment_year", Integer, nullable=False, index=True),
    Column("department_id", String(100), index=True),
    Column("kind", String(40), nullable=False),
    Column("recipients", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("message_id", String(255)),
    Column("status", String(20), nullable=False),  # sending | sent | failed
    Column("attachment", Text),
    Column("run_id", String(255)),
    Column("error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
)

# One row per file received, whatever happened to it: provenance for every evidence row.
submission = Table(
    "submission",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sha256", String(64), nullable=False, unique=True),
    Column("original_name", Text, nullable=False),
    Column("assessment_year", Integer, index=True),
    Column("department_id", String(100), index=True),
    Column("source", String(40), nullable=False),  # inbox | imap
    Column("submitter", Text),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("status", String(20), nullable=False),  # accepted | partial | rejected | quarantined
    Column("archive_path", Text),
    Column("rows_total", Integer, nullable=False, default=0),
    Column("rows_accepted", Integer, nullable=False, default=0),
    Column("rows_rejected", Integer, nullable=False, default=0),
    Column("version", Integer, nullable=False, default=1),
    Column("message", Text),
)

evidence = Table(
    "evidence",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("assessment_year", Integer, nullable=False, index=True),
    Column("department_id", String(100), nullable=False, index=True),
    Column("element_id", String(20), nullable=False, index=True),
    Column("title", Text, nullable=False),
    Column("evidence_type", String(40), nullable=False),
    Column("link", Text),
    Column("evidence_date", Date),
    Column("owner", Text),
    Column("self_rating", String(40)),
    Column("cplus_claim", Boolean, nullable=False, default=False),
    Column("cplus_justification", Text),
    Column("notes", Text),
    Column("submission_id", ForeignKey("submission.id"), nullable=False, index=True),
    Column("sheet", String(100), nullable=False),
    Column("row_number", Integer, nullable=False),
    Column("is_current", Boolean, nullable=False, default=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("submission_id", "sheet", "row_number", name="uq_evidence_provenance"),
)

# The assessor's rating per element, year by year (imported history and entered outcomes).
assessment_outcome = Table(
    "assessment_outcome",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("assessment_year", Integer, nullable=False),
    Column("framework", String(40), nullable=False),
    Column("assessment_type", String(20), nullable=False),
    Column("element_id", String(20), nullable=False),
    Column("rating", String(40), nullable=False),
    Column("action", Text),
    Column("source", Text),
    UniqueConstraint("assessment_year", "element_id", name="uq_outcome_year_element"),
)

# What a DAG run produced, for history and the dashboard (summaries, gap snapshots, packs).
run_record = Table(
    "run_record",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(40), nullable=False),
    Column("dag_id", String(250), nullable=False),
    Column("run_id", String(250), nullable=False),
    Column("assessment_year", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("payload", JSON, nullable=False),
    UniqueConstraint("kind", "dag_id", "run_id", name="uq_run_record_kind_run"),
)


# --- Evidence intake stage (migration 0002) ----------------------------------------------------------
# Columns intake adds to the foundation's submission and evidence tables (provenance and replies).
submission.append_column(Column("request_reference", String(100)))
submission.append_column(Column("run_id", String(250)))
submission.append_column(Column("annotated_path", Text))  # the workbook sent back with comments
submission.append_column(Column("quarantine_path", Text))
submission.append_column(Column("details", JSON))  # issues and notes, as the reply shows them
evidence.append_column(Column("confirm", String(20)))  # pre-filled rows: Still current | Replaced
# How the element is met, as the department wrote it (workbook layout version 2; migration 0012).
evidence.append_column(Column("statement", Text))

# Every file that arrived in the inbox, including identical re-sends ("already received").
intake_receipt = Table(
    "intake_receipt",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sha256", String(64), nullable=False, index=True),
    Column("original_name", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("outcome", String(20), nullable=False),  # processed | duplicate
    Column("submission_id", ForeignKey("submission.id"), index=True),
    Column("run_id", String(250)),
    Column("stored_path", Text),
)


# --- Gap analysis stage (migration 0003) -------------------------------------------------------------
# One snapshot per gap_analysis run (rerunning a run replaces it), so readiness over time is kept.
gap_snapshot = Table(
    "gap_snapshot",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("dag_id", String(250), nullable=False),
    Column("run_id", String(250), nullable=False),
    Column("assessment_year", Integer, nullable=False, index=True),
    Column("framework", String(40), nullable=False),
    Column("assessment_type", String(20), nullable=False),
    Column("as_of", Date, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("elements", Integer, nullable=False),
    Column("ready", Integer, nullable=False),
    Column("at_risk", Integer, nullable=False),
    Column("gaps", Integer, nullable=False),
    Column("score", Float, nullable=False),
    Column("summary", JSON, nullable=False),  # roll-ups and year-on-year, as in gaps.json
    UniqueConstraint("dag_id", "run_id", name="uq_gap_snapshot_run"),
)

# Each element's readiness in one snapshot, with the reasons behind it.
gap_element = Table(
    "gap_element",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("snapshot_id", ForeignKey("gap_snapshot.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("element_id", String(20), nullable=False),
    Column("criterion_id", String(10), nullable=False),
    Column("sub_criterion_id", String(10), nullable=False),
    Column("readiness", String(10), nullable=False),
    Column("forecast", String(40), nullable=False),
    Column("score", Integer, nullable=False),
    Column("in_focus", Boolean, nullable=False),
    Column("reasons", JSON, nullable=False),
    UniqueConstraint("snapshot_id", "element_id", name="uq_gap_element_snapshot_element"),
)

# --- assessment timetable stage (migration 0004) -------------------------------------------------
# The current timetable, one row per session: the previous solution for the next run (move as little
# as possible) and the iCalendar identity (UID, SEQUENCE) that makes a changed session update the same
# calendar entry.
timetable_session = Table(
    "timetable_session",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("assessment_year", Integer, nullable=False, index=True),
    Column("session_key", String(120), nullable=False),
    Column("uid", String(255), nullable=False, unique=True),
    Column("sequence", Integer, nullable=False, default=0),
    Column("status", String(20), nullable=False),  # scheduled | cancelled
    Column("title", Text, nullable=False),
    Column("day", Integer, nullable=False),
    Column("start_minute", Integer, nullable=False),
    Column("end_minute", Integer, nullable=False),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("ends_at", DateTime(timezone=True), nullable=False),
    Column("mode", String(20), nullable=False),
    Column("site_id", String(100)),
    Column("room_id", String(100)),
    Column("assessor", String(255), nullable=False),
    Column("attendees", JSON, nullable=False),  # [[name, email], ...] as invited (for a later cancellation)
    Column("run_id", String(250)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # the slot as last emailed (day, start, end, mode, site, room, sequence, status), migration 0007:
    # what the assessor's covering email says changed ("moved from ...")
    Column("notified", JSON),
    Column("joining_link", String(500)),  # a virtual session's joining link (migration 0017)
    UniqueConstraint("assessment_year", "session_key", name="uq_timetable_session_year_key"),
)

# Each attendee's latest answer to a session invite (migration 0007), read from the quality mailbox:
# an iMIP REPLY or an "Accepted:/Declined:/Tentative:" reply. No row = no answer yet.
timetable_rsvp = Table(
    "timetable_rsvp",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("assessment_year", Integer, nullable=False, index=True),
    Column("uid", String(255), nullable=False),  # the session's calendar UID
    Column("session_key", String(120)),
    Column("attendee", String(254), nullable=False),  # lower-case email
    Column("attendee_name", Text),
    Column("answer", String(20), nullable=False),  # accepted | declined | tentative
    Column("sequence", Integer),  # the invite revision answered, when the reply says
    Column("comment", Text),
    Column("found_by", String(20), nullable=False),  # calendar | subject
    Column("message_key", String(255), nullable=False),  # the mailbox message it came in
    Column("answered_at", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("uid", "attendee", name="uq_timetable_rsvp_uid_attendee"),
)

# --- approvals stage (migrations 0005, 0009) -----------------------------------------------------------
# Every sign-off in the Airflow UI beside the item it approved: who answered, what, when and why, and
# the SHA-256 of exactly what would be sent. Append-only (0009: a trigger refuses UPDATE and DELETE):
# the approval task itself writes a "requested" row when it opens and an answer row when it resumes;
# the send step reads the answer from here, never from XCom. A re-asked approval appends, never rewrites.
approval_decision = Table(
    "approval_decision",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("assessment_year", Integer, nullable=False),
    Column("item_kind", String(40), nullable=False),  # timetable | readiness_pack | assessment_outcome
    Column("item_ref", Text, nullable=False),  # the file or folder that was approved
    Column("subject", Text, nullable=False),
    Column("dag_id", String(250), nullable=False),
    Column("run_id", String(250), nullable=False),
    Column("task_id", String(250), nullable=False),
    Column("decision", String(20), nullable=False),  # requested | approved | rejected | replan | timed_out | entered
    Column("digest", String(64)),  # SHA-256 of what would be sent (NULL for a form entry)
    Column("chosen_option", String(80)),
    Column("responded_by", String(250)),  # the Airflow user id; NULL when the request timed out
    Column("responded_by_name", Text),
    Column("responded_at", DateTime(timezone=True)),
    Column("comment", Text),
    Column("params", JSON, nullable=False),  # the form as answered
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Index("ix_approval_decision_task", "dag_id", "run_id", "task_id"),
    Index("ix_approval_decision_item", "assessment_year", "item_kind"),
)

# --- mailbox stage (migration 0006) -------------------------------------------------------------------
# Every message read from the quality mailbox, claimed by its Message-ID before anything is done with it,
# so a rerun, a retry or two overlapping runs never handle (or answer) one message twice.
mailbox_message = Table(
    "mailbox_message",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("message_key", String(255), nullable=False, unique=True),  # Message-ID (or a digest of a message without one)
    Column("folder", String(255), nullable=False),
    Column("uid", Integer),
    Column("uidvalidity", String(40)),
    Column("sender", Text),
    Column("subject", Text),
    Column("in_reply_to", Text),
    Column("references", Text),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("raw_sha256", String(64), nullable=False),
    Column("eml_path", Text),  # archive/mail/<sha[:2]>/<sha>.eml, content-addressed
    Column("department_id", String(100)),
    Column("request_reference", String(100)),
    Column("status", String(20), nullable=False),  # claimed | done
    Column("handling", String(30)),  # evidence | no_workbook | stranger | automatic | own_message | unreadable | rsvp
    Column("reason", Text),
    Column("answer_key", String(255)),  # outbox dedupe key of our direct answer, if one is owed
    Column("details", JSON),
    Column("run_id", String(250)),
    Column("claimed_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
)

# Every attachment of those messages (nested and zipped ones included) with what happened to it.
mailbox_attachment = Table(
    "mailbox_attachment",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("mailbox_message_id", ForeignKey("mailbox_message.id"), nullable=False, index=True),
    Column("position", Integer, nullable=False),
    Column("filename", Text, nullable=False),
    Column("content_type", String(255)),
    Column("sha256", String(64), nullable=False, index=True),
    Column("size", Integer, nullable=False),
    Column("container", Text),  # "zip:<name>" or "message:<subject>" when found inside another part
    Column("handling", String(20), nullable=False),  # intake | quarantined | not_evidence | refused
    Column("inbox_name", Text),  # the file handed to the intake sweep
    Column("written_at", DateTime(timezone=True)),  # its modification time = the receipt's received_at
    Column("receipt_id", ForeignKey("intake_receipt.id")),  # set once the sweep recorded it
    UniqueConstraint("mailbox_message_id", "position", name="uq_mailbox_attachment_position"),
)

# --- evidence documents (migration 0008) ---------------------------------------------------------------
# Every document a department sent beside its workbook (mail attachment, zip member, delivery folder),
# kept content-addressed or refused with a reason; "version" counts earlier copies under the same name.
evidence_document = Table(
    "evidence_document",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("assessment_year", Integer, nullable=False, index=True),
    Column("department_id", String(100), nullable=False, index=True),
    Column("filename", Text, nullable=False),
    Column("match_name", Text, nullable=False),  # the file name folded for matching (case, spacing)
    Column("sha256", String(64), nullable=False, index=True),
    Column("size", Integer, nullable=False),
    Column("content_type", String(255)),
    Column("status", String(20), nullable=False),  # kept | refused
    Column("reason", Text),  # why it was refused
    Column("stored_path", Text),  # documents/<sha[:2]>/<sha><suffix> (kept) or the quarantine folder
    Column("source", String(20), nullable=False),  # imap | inbox
    Column("mailbox_message_id", ForeignKey("mailbox_message.id")),
    Column("message_key", String(255)),
    Column("container", Text),
    Column("version", Integer, nullable=False, default=1),
    Column("received_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("department_id", "assessment_year", "match_name", "sha256", name="uq_evidence_document_content"),
)

# The last link check of each web link an evidence row names (migration 0008).
link_check = Table(
    "link_check",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("url", Text, nullable=False, unique=True),
    Column("status", String(20), nullable=False),  # working | broken | not_checked
    Column("detail", Text, nullable=False),
    Column("http_status", Integer),
    Column("checked_at", DateTime(timezone=True), nullable=False),
)

# --- portfolio stage (migration 0011) -------------------------------------------------------------------
# Each version of the assessor's evidence portfolio: a new one only when what it shows changed
# (``fingerprint`` over the gathered content), with the per-element summary the next version's
# "what changed" is worked out from.
portfolio_version = Table(
    "portfolio_version",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("assessment_year", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("fingerprint", String(64), nullable=False),  # SHA-256 over the gathered content
    Column("manifest_sha256", String(64), nullable=False),  # SHA-256 of the bundle's MANIFEST
    Column("zip_path", Text, nullable=False),
    Column("zip_sha256", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("summary", JSON, nullable=False),  # element -> what it showed (for the next version's changes)
    Column("gaps", JSON, nullable=False),
    Column("run_id", String(250)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("assessment_year", "version", name="uq_portfolio_version_year_version"),
)

# Every request for the assessor's bundle through the signed link, served or refused (and why).
portfolio_download = Table(
    "portfolio_download",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("assessment_year", Integer),
    Column("version", Integer),
    Column("recipient", String(254)),
    Column("outcome", String(20), nullable=False),  # served | expired | revoked | refused | missing
    Column("detail", Text, nullable=False),
    Column("token_sha256", String(64), nullable=False),  # a digest of the token, never the token itself
    Column("client", String(100)),
    Column("user_agent", Text),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Index("ix_portfolio_download_year_version", "assessment_year", "version"),
)

# --- portfolio link revocation (migration 0018, append-only: a trigger refuses UPDATE and DELETE) -------
# The quality team withdrawing assessors' download links before they expire, one row per revocation and
# never updated: a link is void when a row names its year, its version (or every version: NULL) and its
# recipient (or every recipient: NULL) and the link was issued no later than ``revoked_at`` (a first-format
# link, with no issued-at, always counts as earlier). Links issued afterwards work (reaccreditation.portfolio.revoke).
portfolio_revocation = Table(
    "portfolio_revocation",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("assessment_year", Integer, nullable=False),
    Column("version", Integer),  # NULL: every version of the year
    Column("recipient", String(254)),  # lower case; NULL: every recipient
    Column("reason", Text, nullable=False),
    Column("revoked_by", String(250), nullable=False),
    Column("contact", String(254), nullable=False),  # whom the refused assessor is told to ask (the quality mailbox)
    Column("revoked_at", DateTime(timezone=True), nullable=False),
    Index("ix_portfolio_revocation_year", "assessment_year"),
)

# --- evidence review (migration 0013) ----------------------------------------------------------------
# The quality team's judgement of each evidence item, one row per change and never updated: who moved it
# from which state to which, why, and when. ``version`` numbers an item's changes 1, 2, ...; a change is
# made against the version its reviewer saw, and the unique key turns two reviewers at once into one
# change and one conflict (reaccreditation.review.store).
evidence_review = Table(
    "evidence_review",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("evidence_id", ForeignKey("evidence.id"), nullable=False, index=True),
    Column("assessment_year", Integer, nullable=False),
    Column("department_id", String(100), nullable=False),
    Column("element_id", String(20), nullable=False),
    Column("version", Integer, nullable=False),  # this change's number; the reviewer saw version - 1
    Column("from_state", String(20), nullable=False),  # unreviewed | accepted | needs_work | not_relevant
    Column("to_state", String(20), nullable=False),
    Column("comment", Text),  # as typed (shown escaped); required for needs_work
    Column("reviewer", String(250), nullable=False),  # the Airflow user id
    Column("reviewer_name", Text),
    Column("reviewed_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("evidence_id", "version", name="uq_evidence_review_version"),
    Index("ix_evidence_review_year_department", "assessment_year", "department_id"),
)
