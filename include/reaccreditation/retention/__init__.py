"""Retention: personal data kept no longer than the organisation's ``retention.years`` (docs/security.md)."""
