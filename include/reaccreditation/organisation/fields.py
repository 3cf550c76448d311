"""Field types shared by every section of the organisation config (emails, ids, one-line names).

A module of its own so that :mod:`reaccreditation.organisation.config` and the sections it imports (the
``timetable:`` section) validate the same way without importing each other.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Text that ends up in mail headers or file names must be one line.
_ONE_LINE = re.compile(r"^[^\r\n\x00]*$")


def _email(value: str) -> str:
    value = value.strip()
    if not _EMAIL.match(value):
        raise ValueError(f"{value!r} is not a valid email address")
    return value.lower()


def _slug(value: str) -> str:
    if not _SLUG.match(value):
        raise ValueError(f"{value!r} is not a valid id: use lower-case letters, digits and hyphens (e.g. 'adult-social-care')")
    return value


def _one_line(value: str) -> str:
    value = value.strip()
    if not value or not _ONE_LINE.match(value):
        raise ValueError("must be a single non-empty line of text")
    return value


Email = Annotated[str, AfterValidator(_email)]
Slug = Annotated[str, AfterValidator(_slug)]
Name = Annotated[str, AfterValidator(_one_line)]
