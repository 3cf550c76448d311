"""A forged From registers nothing: only our mail server's topmost DMARC verdict for the From domain counts.

Attacks tried on the demo council with ``mailbox.authentication`` on (a real config's setting): a contact's
address in From with no verdict, a failed one, one from another server (or a look-alike id), a forged
``pass`` below our server's own header, a pass for another domain, and a From that lenient parsers read as
the council address. Each is handled as a stranger's message (quarantined, the quality team told,
nothing handed to intake); the genuine message beside them is taken, so the check can tell them apart.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from reaccreditation.db.schema import mailbox_message

from .conftest import TODAY
from .mails import AUTHSERV, contact, delivered, raw, reply, verdict, workbook


@pytest.fixture
def org(demo):  # type: ignore[no-untyped-def]
    from reaccreditation.organisation.config import MailAuthentication, Mailbox, load_organisation

    demo_org = load_organisation(demo["config"], today=TODAY)
    secured = Mailbox(authentication=MailAuthentication(authserv_id=AUTHSERV, required=True))
    return demo_org.model_copy(update={"mailbox": secured})


def test_only_our_mail_servers_topmost_dmarc_pass_is_believed(run, imap, org):  # type: ignore[no-untyped-def]
    who = contact(org, "housing")
    data = workbook(org, "housing")
    domain = who[1].rsplit("@", 1)[1]
    cases = {
        "no verdict": [],
        "dmarc fail": [verdict(who, "fail")],
        "another server's pass": [verdict(who, authserv="mx.evil.example")],
        "a look-alike server id": [verdict(who, authserv=f"{AUTHSERV}.evil.example")],
        "a forged pass below ours": [verdict(who, "none"), verdict(who)],
        "a pass for another domain": [verdict("x@evil.example")],
        "unreadable": [f"Authentication-Results: {AUTHSERV}; dmarc=pass header.from={domain}; ???"],
        "genuine": [verdict(who)],
    }
    keys = {}
    for case, headers in cases.items():
        msg = reply(org, "housing", who, attachments=[("housing-evidence-2027.xlsx", data)], body=case)
        imap.append(delivered(raw(msg), *headers))
        keys[msg["Message-ID"]] = case
    # and the display-name trick: lenient parsers read the council address, a DMARC checker the angle one
    trick = reply(org, "housing", ("", "x"), attachments=[("housing-evidence-2027.xlsx", data)])
    del trick["From"]
    trick["From"] = f"{who[1]} <attacker@evil.example>"
    imap.append(delivered(raw(trick), verdict("attacker@evil.example")))
    keys[trick["Message-ID"]] = "a From with the council address outside the angle brackets"

    counts = run()
    assert counts == {"answers_sent": 8, "evidence": 1, "stranger": 8}, counts
    with run.engine.connect() as conn:
        rows = {r.message_key: r for r in conn.execute(select(mailbox_message))}
    handled = {keys[k]: (r.handling, r.reason) for k, r in rows.items()}
    assert handled["genuine"][0] == "evidence"
    assert {case for case, (h, _) in handled.items() if h == "stranger"} == set(keys.values()) - {"genuine"}
    assert "not authenticated: no Authentication-Results header from our mail server" in handled["no verdict"][1]
    assert "DMARC fail" in handled["dmarc fail"][1]
    assert "DMARC none" in handled["a forged pass below ours"][1]  # the topmost of ours counts, nothing below it
    assert "not for the From domain" in handled["a pass for another domain"][1]
    assert "malformed" in handled["a From with the council address outside the angle brackets"][1]
    assert [p.name for p in run.paths.inbox.iterdir()] == ["housing-evidence-2027.xlsx"]  # only the genuine one
    quality = {m.email for m in org.quality_team.members}
    notices = [m for m in run.sent if {a.addr_spec for a in m["To"].addresses} == quality]
    assert len(notices) == 8 and all("No reply went to the sender" in m.get_body(("plain",)).get_content() for m in notices)
    assert not [m for m in run.sent if who[1] in str(m["To"]) or "evil.example" in str(m["To"])]


def test_a_secured_config_without_a_server_id_reads_no_mail(run, imap, org):  # type: ignore[no-untyped-def]
    from reaccreditation.mailbox.authenticity import NotConfigured
    from reaccreditation.organisation.config import MailAuthentication, Mailbox

    imap.append(raw(reply(org, "housing", contact(org, "housing"))))
    unset = org.model_copy(update={"mailbox": Mailbox(authentication=MailAuthentication())})
    from reaccreditation.mailbox.imap import Mailbox as Box
    from reaccreditation.mailbox.imap import MailboxSettings
    from reaccreditation.mailbox.process import Context, collect

    client = imap.client()
    try:
        with pytest.raises(NotConfigured, match="authserv_id is not set"):
            collect(Box(client, MailboxSettings()), Context(unset, run.engine, run.paths, "test"))
    finally:
        client.logout()
    with run.engine.connect() as conn:
        assert conn.execute(select(mailbox_message)).all() == []  # nothing claimed: the next run reads it
