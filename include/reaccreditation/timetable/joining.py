"""The ``timetable.joining_links`` setting: where virtual sessions' joining links come from.

Either a **template** (one link per session, e.g. ``https://meet.example.org/kv-{session}``) or a
**pool** (a fixed list of meeting rooms, as a council with a few standing Teams or Zoom rooms has):
two virtual sessions that overlap never share a pool link (``links.assign``). Imported by
``timetable.config``, so only pydantic here.
"""

from __future__ import annotations

import re
from string import Formatter
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

PLACEHOLDERS = {"session": "the session's key, e.g. depot-visit-2", "group": "the group's id", "year": "the assessment year"}
_SAMPLE = {"session": "depot-visit-2", "group": "depot-visit", "year": "2027"}
_UNSAFE = re.compile(r"[\s<>\"'`\\{}|^\x00-\x1f\x7f]")
MAX_LENGTH = 500


def check_url(value: str, what: str = "link") -> str:
    """A joining link people will click: http(s), a host, no spaces, quotes or control characters."""
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise ValueError(f"{what} {value[:80]!r} must be a web address starting https:// (or http://)")
    if _UNSAFE.search(value):
        raise ValueError(f"{what} {value[:80]!r} contains a space, quote, brace or control character")
    if len(value) > MAX_LENGTH:
        raise ValueError(f"{what} is {len(value)} characters long (at most {MAX_LENGTH})")
    return value


def fields_of(template: str) -> list[str]:
    """The placeholders a template uses; ValueError naming a stray brace, a format spec or an unknown name."""
    try:
        parsed = list(Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(f"template {template!r}: {exc} (write placeholders as {{session}}, {{group}} or {{year}})") from None
    names = []
    known = ", ".join("{" + k + "}" for k in PLACEHOLDERS)
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in PLACEHOLDERS:
            raise ValueError(f"template {template!r}: unknown placeholder {{{name}}} (use {known})")
        if spec or conversion:
            raise ValueError(f"template {template!r}: write {{{name}}} without ':' or '!' after the name")
        names.append(name)
    return names


def render(template: str, *, session: str, group: str, year: int) -> str:
    return template.format(session=session, group=group, year=year)


class JoiningLinks(BaseModel):
    """Exactly one of ``template`` or ``pool``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    template: str | None = Field(default=None, description="one link per session: {session}, {group}, {year} are filled in")
    pool: tuple[str, ...] = Field(default=(), description="standing meeting rooms; overlapping sessions never share one")
    label: str = Field(default="Online meeting", max_length=60, description="what the invite calls it, e.g. 'Teams meeting'")

    @field_validator("template")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        names = fields_of(value)
        if "session" not in names and "group" not in names:
            raise ValueError(
                f"template {value!r} gives every session the same link: put {{session}} in it "
                "(or list standing meeting rooms under pool:)"
            )
        check_url(render(value, **_SAMPLE), "the template's link")  # type: ignore[arg-type]
        return value

    @field_validator("pool")
    @classmethod
    def _pool(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        value = tuple(v.strip() for v in value)
        for i, link in enumerate(value):
            check_url(link, f"pool[{i}]")
        twice = sorted({v for v in value if value.count(v) > 1})
        if twice:
            raise ValueError(f"pool lists {twice[0]!r} twice: each entry is one meeting room")
        return value

    @field_validator("label")
    @classmethod
    def _label(cls, value: str) -> str:
        if not value.strip() or _UNSAFE.sub("", value.replace(" ", "")) != value.replace(" ", ""):
            raise ValueError("label must be one line of plain words, e.g. 'Teams meeting'")
        return value.strip()

    @model_validator(mode="after")
    def _one_source(self) -> JoiningLinks:
        if (self.template is None) == (not self.pool):
            raise ValueError(
                "give either template: (one link per session) or pool: (a list of meeting rooms), not both or neither"
            )
        return self
