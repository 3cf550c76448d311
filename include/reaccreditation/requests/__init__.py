"""Evidence requests: the personalised workbook each department receives, and the emails around it."""
