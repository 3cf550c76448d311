"""Evidence by email: the quality mailbox as an intake source beside the inbox folder.

A department's evidence contact answers the request email with the filled workbook attached. Each
message is claimed once by its Message-ID (:mod:`.store`), archived as ``.eml``, checked for mail loops
(:mod:`.loops`: auto-replies, bounces, lists are never answered) and for who sent it (:mod:`.senders`:
only the contacts and head of the department the reference names). Workbooks found in it (attached,
zipped, inside a forwarded or attached message: :mod:`.message`, :mod:`.parts`) are handed to the
ordinary intake sweep through the inbox folder; the sweep's answer is then threaded back to the sender
(:mod:`.answers`). Everything else gets a specific answer or a recorded handling (:mod:`.process`).
Plain Python: the IMAP client comes in from ``orchestration.connections.imap_mailbox``.
"""
