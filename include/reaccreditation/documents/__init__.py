"""Evidence documents: the files departments send beside their workbooks, checked, kept and tied to rows."""
