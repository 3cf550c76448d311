"""The emails we send: built as messages (``compose``) and delivered at most once each (``outbox``)."""
