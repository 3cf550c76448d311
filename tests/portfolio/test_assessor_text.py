"""The assessor's plain-text email keeps its paragraphs apart, whichever optional parts it has."""

from __future__ import annotations

from datetime import date

import pytest

from reaccreditation.render import render

BASE = {
    "organisation": "Kestrel Vale Borough Council",
    "framework": "Customer Service Excellence",
    "assessment_type": "surveillance",
    "name": "Alan Wicks",
    "version": 2,
    "previous": 1,
    "first_day": date(2027, 3, 15),
    "covered": 56,
    "total": 57,
    "size": "89 KB",
    "link": "http://localhost:8080/portfolio/download?token=t",
    "expires": "20 January 2027",
    "mailbox": "quality@kestrelvale.example.org",
}


@pytest.mark.parametrize(
    "extra",
    [
        {"reissued": False, "changes": [], "gaps": 1},
        {"reissued": True, "changes": ["1.1.1: one document added"], "gaps": 0},
        {"reissued": True, "changes": [], "gaps": 2},
    ],
)
def test_every_paragraph_is_followed_by_a_blank_line(extra: dict) -> None:
    text = render("portfolio_assessor.txt", **BASE, **extra)
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    assert "\n\n\n" not in text
    first = next(p for p in paragraphs if p.startswith(("Ahead of", "Since version")))
    assert "\n" not in first  # the opening sentence is a paragraph of its own
    assert any(p.startswith("56 of 57 elements") and "\n" not in p for p in paragraphs)
    assert any(p.startswith("Attached: index.html") for p in paragraphs)
    if extra["reissued"]:
        assert any(p.startswith("This is a new download link") and "\n" not in p for p in paragraphs)
    if extra["changes"]:
        assert "What changed:\n- 1.1.1: one document added" in paragraphs
