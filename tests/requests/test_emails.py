"""The request, reminder and escalation emails as a person receives them (built, not sent)."""

from __future__ import annotations

from datetime import date

from reaccreditation.mail.compose import build_message
from reaccreditation.organisation.config import Department, Person
from reaccreditation.requests import emails

TODAY = date(2026, 11, 15)


def lines(org, department, ratings=None):  # type: ignore[no-untyped-def]
    return emails.element_lines(org, list(department.elements), ratings or {})


def test_request_email_has_everything_a_contact_needs(org):
    d = org.department("policy-insight")
    contact = d.evidence_contacts[1]
    draft = emails.request_draft(
        org,
        d,
        contact,
        workbook=b"PK..",
        file_name="Evidence request 2027 - Policy.xlsx",
        open_elements=lines(org, d, {d.elements[0]: "Partial Compliance"}),
        prefilled=3,
        today=TODAY,
    )
    msg = build_message(draft)
    assert msg["To"] == "Owen Price <owen.price@kestrelvale.example.org>"
    assert msg["Reply-To"] == msg["From"] == "Kestrel Vale quality team <quality@kestrelvale.example.org>"
    assert msg["X-Reaccreditation-Reference"] == "REQ-2027-policy-insight"
    assert msg["Subject"] == f"Evidence request 2027: {d.name}, reply by 22 January 2027 [REQ-2027-policy-insight]"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    for body in (text, html):
        assert "Dear Owen Price," in body
        assert "Friday 22 January 2027" in body  # the return deadline: T-50 is a Sunday, so the Friday before
        assert "REQ-2027-policy-insight" in body
        assert "Partial Compliance last time" in body
    assert f"owns {len(d.elements)} elements of the standard" in text and "3 yellow rows" in text
    assert '<meta name="viewport"' in html
    [attachment] = list(msg.iter_attachments())
    assert attachment.get_filename() == "Evidence request 2027 - Policy.xlsx"
    assert attachment.get_content_type() == emails.XLSX


def test_names_from_the_config_are_escaped_in_html(org):
    d = org.department("housing").model_copy(update={"name": "Housing <script>alert(1)</script> & Co"})
    contact = Person(name="Ben <b>Ashworth</b>", email="ben@example.org")
    d = Department.model_validate(d.model_dump() | {"evidence_contacts": [contact.model_dump()]})
    msg = build_message(emails.reminder_draft(org, d, contact, number=1, open_elements=lines(org, d), today=TODAY))
    html = msg.get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;" in html and "Ben &lt;b&gt;Ashworth&lt;/b&gt;" in html
    assert "Housing <script>alert(1)</script> & Co" in msg.get_body(("plain",)).get_content()


def test_reminder_counts_open_elements_and_days_left(org):
    d = org.department("housing")
    open_lines = lines(org, d)[:4]
    msg = build_message(
        emails.reminder_draft(org, d, d.evidence_contacts[0], number=2, open_elements=open_lines, today=date(2027, 1, 14))
    )
    assert msg["Subject"] == "Reminder: Housing Services evidence due 22 January 2027, 4 elements still open [REQ-2027-housing]"
    text = msg.get_body(("plain",)).get_content()
    assert "(8 days from now)" in text and f"4 of your {len(d.elements)} elements" in text
    assert not list(msg.iter_attachments())


def test_escalation_goes_to_the_head_with_the_quality_team_in_copy(org):
    d = org.department("adult-social-care")
    msg = build_message(emails.escalation_draft(org, d, open_elements=lines(org, d)[:2], today=date(2027, 1, 29)))
    assert msg["To"] == "Peter Lowe <peter.lowe@kestrelvale.example.org>"
    assert msg["Cc"] == "Priya Raman <priya.raman@kestrelvale.example.org>, Tom Hollis <tom.hollis@kestrelvale.example.org>"
    text = msg.get_body(("plain",)).get_content()
    assert "Dear Peter Lowe," in text and "2 of the" in text and "Grace Mbeki" in text
    assert "Was due:    Friday 22 January 2027" in text and "Return by" not in text
