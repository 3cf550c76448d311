"""Readiness packs: what leadership and department heads receive before (and after) the assessment.

One job per module: ``schedule`` (is a pack due today, which one), ``sources`` (read the gap snapshot,
the timetable, the evidence register and the history; say what is missing), ``gather`` (turn them into
the pack's figures: RAG per criterion, changes, top gaps, actions), ``charts`` (PNG charts for the
email), ``workbook`` (the attached xlsx), ``render`` (HTML, text and files in the pack folder, with a
manifest) and ``send`` (the manifest's messages through the outbox, at most once each).
"""
