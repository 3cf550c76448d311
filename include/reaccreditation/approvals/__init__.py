"""Sign-off as plain Python: who may answer, what was decided, the audit record, the emails and pages."""
