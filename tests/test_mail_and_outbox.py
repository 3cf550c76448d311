import pytest
from sqlalchemy import select

from reaccreditation.db import make_engine
from reaccreditation.db.schema import outbound_message
from reaccreditation.mail.compose import Attachment, Draft, InlineImage, address, build_message
from reaccreditation.mail.outbox import send_once
from reaccreditation.orchestration import connections


def _draft(**kw):
    base = dict(
        to=[address("Joe Barker", "joe.barker@kestrelvale.example.org")],
        subject="Evidence request",
        text="Hello",
        html="<p>Hello</p>",
    )
    return Draft(**(base | kw))


def test_header_injection_through_names_and_subjects_is_neutralised():
    msg = build_message(
        _draft(to=[address("Joe\r\nBcc: all@evil.example", "joe@kestrelvale.example.org")], subject="Hi\nBcc: x@evil.example")
    )
    raw = msg.as_string()
    assert "\nBcc:" not in raw
    assert msg["Subject"] == "Hi Bcc: x@evil.example"


def test_message_has_text_alternative_attachment_and_inline_image():
    msg = build_message(_draft(attachments=[Attachment("book.xlsx", b"PK\x03\x04")], images=[InlineImage("chart1", b"\x89PNG")]))
    assert msg.get_body(("plain",)).get_content().strip() == "Hello"
    html = msg.get_body(("html",))
    assert html.get_content().strip() == "<p>Hello</p>"
    parts = list(msg.iter_attachments())
    assert [p.get_filename() for p in parts] == ["book.xlsx"]
    assert parts[0].get_content_type() == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert any(p["Content-ID"] == "<chart1>" for p in msg.walk())


def test_send_once_delivers_once_through_the_smtp_provider(project_db, outbox):
    engine = make_engine(project_db)
    transport = connections.smtp_transport()
    first = send_once(engine, transport, build_message(_draft()), dedupe_key="k1", assessment_year=2027, kind="request")
    second = send_once(engine, transport, build_message(_draft()), dedupe_key="k1", assessment_year=2027, kind="request")
    assert (first, second) == (True, False)
    messages = outbox.messages()
    assert len(messages) == 1
    assert messages[0]["To"] == "Joe Barker <joe.barker@kestrelvale.example.org>"
    assert messages[0]["From"] == "quality@kestrelvale.example.org"
    with engine.connect() as conn:
        assert conn.execute(select(outbound_message.c.status)).scalars().all() == ["sent"]


def test_failed_delivery_releases_the_claim_so_a_retry_sends(project_db, outbox):
    engine = make_engine(project_db)

    def down(msg):
        raise ConnectionRefusedError("smtp down")

    with pytest.raises(ConnectionRefusedError):
        send_once(engine, down, build_message(_draft()), dedupe_key="k2", assessment_year=2027, kind="request")
    assert send_once(
        engine, connections.smtp_transport(), build_message(_draft()), dedupe_key="k2", assessment_year=2027, kind="request"
    )
    assert len(outbox.messages()) == 1


def test_a_long_subject_reads_back_exactly():
    import email

    subject = "Kestrel Vale: evidence request for Libraries, Leisure and Culture (REQ-2027-libraries)"
    raw = build_message(_draft(subject=subject)).as_bytes()
    assert email.message_from_bytes(raw, policy=email.policy.default)["Subject"] == subject


def test_every_message_is_marked_automatic_dated_locally_and_encoded_in_76_columns(monkeypatch):
    import email
    import re
    from email.utils import parsedate_to_datetime

    monkeypatch.setenv("REACCREDITATION_TIMEZONE", "Europe/London")
    long_html = "<p>" + " ".join(f"word{i}" for i in range(400)) + " caf\u00e9</p>"
    sender = address("Kestrel Vale quality team", "quality@kestrelvale.example.org")
    msg = build_message(_draft(html=long_html, text="x " * 600, sender=sender, images=[InlineImage("chart1", b"\x89PNG" * 50)]))
    raw = msg.as_bytes()
    back = email.message_from_bytes(raw, policy=email.policy.default)
    assert back["Auto-Submitted"] == "auto-generated"
    assert re.fullmatch(r"<[^@]+\.reaccreditation@kestrelvale\.example\.org>", back["Message-ID"])
    assert parsedate_to_datetime(back["Date"]).utcoffset() is not None and not back["Date"].endswith("-0000")
    assert back["Reply-To"] == back["From"] == "Kestrel Vale quality team <quality@kestrelvale.example.org>"
    encoded = [line for part in back.walk() if not part.is_multipart() for line in part.get_payload().splitlines()]
    assert len(encoded) > 50 and max(len(line) for line in encoded) <= 76  # RFC 2045: encoded lines of 76 at most
    image = next(p for p in back.walk() if p.get_content_type() == "image/png")
    assert image.get_filename() == "chart1.png" and image.get_content_disposition() == "inline"
    assert back.get_body(("html",)).get_content().strip() == long_html  # decodes back exactly


def test_a_draft_header_replaces_the_default_instead_of_doubling_it():
    msg = build_message(_draft(headers={"Auto-Submitted": "auto-replied"}))
    assert msg.get_all("Auto-Submitted") == ["auto-replied"]
