"""Jinja2 rendering for emails and pages; autoescaped, so names from config or spreadsheets stay text."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).with_name("templates")


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "htm", "xml", "j2.html"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["date_long"] = lambda d: f"{d:%A} {d.day} {d:%B %Y}" if d else ""
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)
