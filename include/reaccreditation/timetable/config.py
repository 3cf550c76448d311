"""The ``timetable:`` section of the organisation config: who the assessor meets and under which rules.

Imported by :mod:`reaccreditation.organisation.config`, so this module must not import it back (nor anything
heavy). Cross-references to departments, elements, sites and rooms are checked against the whole
organisation in :func:`reaccreditation.timetable.problem.check_references`.
"""

from __future__ import annotations

from datetime import date, time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from reaccreditation.organisation.fields import Email, Name, Slug
from reaccreditation.timetable.joining import JoiningLinks, check_url

SessionMode = Literal["site_visit", "face_to_face", "virtual"]
GroupKind = Literal["staff", "partner", "customer", "leadership"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Member(_Model):
    """A person in a participant group: invited to its sessions and never double-booked."""

    name: Name
    email: Email


class Window(_Model):
    """When a group can meet: a day of the assessment (1 = first day, or a date), optionally a time range."""

    day: int | date
    start: time | None = Field(default=None, alias="from")
    end: time | None = Field(default=None, alias="to")

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.start and self.end and self.start >= self.end:
            raise ValueError(f"'from' {self.start:%H:%M} must be before 'to' {self.end:%H:%M}")
        if isinstance(self.day, int) and self.day < 1:
            raise ValueError("day counts from 1 (the first day of the assessment)")
        return self


class CalDav(_Model):
    """A CalDAV calendar asked for free/busy; the password is the Airflow variable ``password_variable`` (never the YAML)."""

    url: str
    username: str
    password_variable: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,250}$", description="the Airflow variable holding the password")

    @field_validator("url")
    @classmethod
    def _web(cls, value: str) -> str:
        return check_url(value, "caldav.url")


class Diary(_Model):
    """Where a person's busy times come from: exactly one of ``ics_file``, ``ics_url`` or ``caldav``."""

    ics_file: str | None = Field(default=None, description="an iCalendar file of busy times, relative to the config's folder")
    ics_url: str | None = Field(default=None, description="a published iCalendar (free/busy) address")
    caldav: CalDav | None = None

    @field_validator("ics_url")
    @classmethod
    def _web(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if value.lower().startswith("webcal://"):  # how Outlook and Apple hand out a published calendar
            value = "https://" + value[len("webcal://") :]
        return check_url(value, "ics_url")

    @field_validator("ics_file")
    @classmethod
    def _file(cls, value: str | None) -> str | None:
        if value is not None and (not value.strip() or "\x00" in value):
            raise ValueError("ics_file must be a file name (relative to the organisation config's folder)")
        return value

    @model_validator(mode="after")
    def _one(self) -> Diary:
        given = [k for k in ("ics_file", "ics_url", "caldav") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of ics_file, ics_url or caldav" + (f" (got {', '.join(given)})" if given else ""))
        return self

    @property
    def kind(self) -> Literal["ics file", "ics url", "caldav"]:
        return "ics file" if self.ics_file is not None else "ics url" if self.ics_url is not None else "caldav"


Unreachable = Literal["typed_rules", "assumed_free"]


class Person(_Model):
    """A participant (or the assessor) with their own availability, matched to members and assessors by email."""

    email: Email
    name: Name | None = None
    availability: tuple[Window, ...] = Field(default=(), description="typed rules as for groups; empty: any time")
    diary: Diary | None = None
    when_unreachable: Unreachable | None = Field(
        default=None, description="when the diary cannot be read (default: diaries.when_unreachable)"
    )


class DiarySettings(_Model):
    """How people's diaries are read at plan time."""

    timeout_seconds: float = Field(default=5, gt=0, le=120, description="the longest a diary's server may stay silent")
    deadline_seconds: float = Field(
        default=15,
        gt=0,
        le=600,
        description="the longest one diary's whole read may take, however its server sends it (default: 15, or three "
        "times timeout_seconds when that is longer)",
    )
    max_megabytes: float = Field(default=5, gt=0, le=100, description="the most one diary's answer may be")
    when_unreachable: Unreachable = Field(
        default="typed_rules", description="typed_rules: plan from the person's typed availability; assumed_free: any time"
    )

    @model_validator(mode="after")
    def _deadline(self) -> DiarySettings:
        if "deadline_seconds" not in self.model_fields_set:  # a config written before the deadline existed keeps working
            object.__setattr__(self, "deadline_seconds", max(self.deadline_seconds, 3 * self.timeout_seconds))
        if self.deadline_seconds < self.timeout_seconds:
            raise ValueError(
                f"deadline_seconds ({self.deadline_seconds:g}), the whole read of a diary, must be at least "
                f"timeout_seconds ({self.timeout_seconds:g}), the longest its server may stay silent"
            )
        return self

    @property
    def max_bytes(self) -> int:
        return int(self.max_megabytes * 1_000_000)


class Lunch(_Model):
    """The assessor's lunch break: ``minutes`` somewhere between ``earliest`` and ``latest``."""

    earliest: time = time(12, 0)
    latest: time = time(14, 0)
    minutes: int = Field(default=45, ge=0, le=180)

    @model_validator(mode="after")
    def _fits(self) -> Lunch:
        span = (self.latest.hour * 60 + self.latest.minute) - (self.earliest.hour * 60 + self.earliest.minute)
        if span < self.minutes:
            raise ValueError(f"the lunch window {self.earliest:%H:%M}-{self.latest:%H:%M} is shorter than {self.minutes} minutes")
        return self


class SessionTypes(_Model):
    """Default session lengths in minutes per mode (a group's ``minutes`` overrides)."""

    site_visit: int = Field(default=60, ge=5, le=480)
    face_to_face: int = Field(default=45, ge=5, le=480)
    virtual: int = Field(default=45, ge=5, le=480)


class Group(_Model):
    """A participant group: one or more sessions with the assessor."""

    id: Slug
    name: Name
    kind: GroupKind
    departments: tuple[Slug, ...] = ()
    elements: tuple[str, ...] = Field(
        default=(), description="element ids, or sub-criterion/criterion ids meaning all their elements"
    )
    members: tuple[Member, ...] = ()
    size: int | None = Field(default=None, ge=1, description="people attending, for room capacity (default: number of members)")
    mode: SessionMode = "face_to_face"
    virtual_ok: bool = Field(default=True, description="may switch to a virtual session when travel or rooms do not fit")
    site: Slug | None = Field(default=None, description="where to meet (required for site visits; default: the base site)")
    room: Slug | None = Field(default=None, description="a specific room at the site")
    minutes: int | None = Field(default=None, ge=5, le=480)
    sessions: int = Field(default=1, ge=1, le=10)
    availability: tuple[Window, ...] = Field(default=(), description="empty: any time of the assessment")

    @model_validator(mode="after")
    def _consistent(self) -> Group:
        if not self.departments and not self.elements:
            raise ValueError(f"group {self.id!r} speaks to nothing: give departments and/or elements")
        if self.mode == "site_visit" and not self.site:
            raise ValueError(f"group {self.id!r} is a site visit: give the site")
        return self

    @property
    def people(self) -> int:
        return self.size or max(1, len(self.members))


class Weights(_Model):
    """Objective weights (see docs/timetable.md); bigger means more important."""

    move: int = Field(
        default=1000,
        ge=0,
        description="minimal change: > 0 first minimises the sessions moved from the stored timetable (each weighted by "
        "the people it disturbs), then the other terms; 0 re-plans from scratch",
    )
    mode: int = Field(default=100, ge=0, description="per session not held in its preferred mode")
    department_days: int = Field(default=20, ge=0, description="per extra day a department's sessions are spread over")
    balance: int = Field(default=1, ge=0, description="per minute a day runs over the average day plus the tolerance")
    balance_tolerance: int = Field(default=30, ge=0, description="minutes a day may run over the average day without penalty")
    focus_day: int = Field(default=5, ge=0, description="per day a focus session waits after the first day")


class TimetableConfig(_Model):
    assessors: tuple[Member, ...] = Field(default=(), description="default: assessment.assessor")
    base_site: Slug | None = Field(
        default=None, description="where face-to-face sessions, lunch and virtual calls happen (default: first site)"
    )
    lunch: Lunch = Lunch()
    changeover_minutes: int = Field(
        default=0,
        ge=0,
        le=60,
        description="assessor's gap between sessions, and everyone's either side of a busy time in their diary",
    )
    slot_minutes: int = Field(default=5, ge=1, le=60, description="sessions start on multiples of this")
    session_types: SessionTypes = SessionTypes()
    groups: tuple[Group, ...] = Field(min_length=1)
    solver_seconds: float = Field(default=20.0, gt=0, le=3600)
    weights: Weights = Weights()
    joining_links: JoiningLinks | None = Field(default=None, description="virtual sessions' joining links: a template or a pool")
    people: tuple[Person, ...] = Field(default=(), description="per-person availability and diaries (docs/timetable.md)")
    diaries: DiarySettings = DiarySettings()

    @model_validator(mode="after")
    def _unique(self) -> TimetableConfig:
        seen: set[str] = set()
        for i, g in enumerate(self.groups):
            if g.id in seen:
                raise ValueError(f"groups[{i}].id: duplicate group id {g.id!r}")
            seen.add(g.id)
        emails: dict[str, int] = {}
        for i, person in enumerate(self.people):
            if person.email in emails:
                raise ValueError(
                    f"people[{i}].email: {person.email!r} is already people[{emails[person.email]}]; "
                    "give each person once (merge their availability and diary)"
                )
            emails[person.email] = i
        return self

    def person(self, email: str) -> Person | None:
        """The ``people:`` entry for an email (case-insensitive), or None."""
        email = email.lower()
        return next((p for p in self.people if p.email == email), None)
