"""The organisation config: one YAML file the quality team owns.

Loading it gives typed models; a wrong file raises :class:`ConfigError` whose message names the file,
the key and what was expected, because the people editing it are not programmers.
"""

from __future__ import annotations

from datetime import date, time, timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from reaccreditation.organisation.fields import Email, Name, Slug
from reaccreditation.organisation.working_days import (
    DEFAULT_NATION,
    Nation,
    day_off,
    previous_working_day,
    working_days_before,
    working_days_from,
)
from reaccreditation.standards import Standard, StandardError, load_standard
from reaccreditation.timetable.config import TimetableConfig


class ConfigError(ValueError):
    """The organisation config is not usable; the message says where and why."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Person(_Model):
    name: Name
    email: Email
    role: Name | None = None
    airflow_user: str | None = Field(default=None, description="Airflow user name, for approvals")


class Assessor(Person):
    organisation: Name | None = None


class Assessment(_Model):
    """The assessor's visit: ``days`` working days from ``first_day`` (weekends and bank holidays skipped)."""

    first_day: date
    days: int = Field(ge=1, le=10)
    type: Literal["full", "surveillance"]
    day_start: time = time(9, 0)
    day_end: time = time(17, 0)
    evidence_window_months: int = Field(default=12, ge=1, le=60)
    review_year: Literal[1, 2] | None = Field(
        default=None,
        description="surveillance only: 1 or 2 in the cycle; default from the history (years since the full assessment)",
    )
    assessor: Assessor | None = None
    _nation: str = PrivateAttr(default=DEFAULT_NATION)  # set from the organisation's ``nation``

    @property
    def dates(self) -> tuple[date, ...]:
        """The assessment days: never a weekend or a bank holiday of the organisation's nation."""
        return working_days_from(self.first_day, self.days, self._nation)

    @property
    def last_day(self) -> date:
        return self.dates[-1]

    @property
    def year(self) -> int:
        """The assessment year keys everything we store (requests, evidence, outcomes)."""
        return self.first_day.year

    @property
    def evidence_window_start(self) -> date:
        """Evidence older than this is stale."""
        months = self.first_day.year * 12 + self.first_day.month - 1 - self.evidence_window_months
        return date(months // 12, months % 12 + 1, min(self.first_day.day, 28))


class Schedule(_Model):
    """Offsets in days before the assessment's first day."""

    requests_days_before: int = Field(default=120, ge=1)
    reminders_days_before: tuple[int, ...] = (90, 60)
    escalation_days_before: int = Field(default=45, ge=1)
    return_days_before: int = Field(default=50, ge=1, description="the deadline told to departments")
    packs_days_before: tuple[int, ...] = (30, 23, 16, 9, 3)
    outcome_days_after: int = Field(
        default=10, ge=0, le=60, description="days after the last assessment day by which the outcome is entered"
    )
    portfolio_days_before: int = Field(
        default=21, ge=1, le=120, description="when the evidence portfolio is built and, once signed off, sent to the assessor"
    )
    desk_review_days_before: int = Field(
        default=14, ge=0, le=120, description="when the assessor's desk review reads the uploaded evidence (forecast accuracy)"
    )
    unreviewed_at_risk_working_days: int = Field(
        default=5,
        ge=0,
        le=120,
        description="from this many working days before the desk review, an element with unreviewed evidence is at risk",
    )

    @model_validator(mode="after")
    def _ordered(self) -> Schedule:
        if any(r >= self.requests_days_before for r in self.reminders_days_before):
            raise ValueError("every reminder must come after the requests (fewer days before the assessment)")
        return self


class Department(_Model):
    id: Slug
    name: Name
    head: Person
    evidence_contacts: tuple[Person, ...] = Field(min_length=1)
    elements: tuple[str, ...] = Field(min_length=1)


class Room(_Model):
    id: Slug
    name: Name
    capacity: int = Field(default=10, ge=1)


class Site(_Model):
    id: Slug
    name: Name
    address: str | None = None
    rooms: tuple[Room, ...] = ()


class Travel(_Model):
    between: tuple[Slug, Slug]
    minutes: int = Field(ge=0)


class QualityTeam(_Model):
    mailbox: Email
    members: tuple[Person, ...] = Field(min_length=1)
    sender_name: Name | None = Field(
        default=None, description="the display name of every email sent (default: '<short name> quality team')"
    )


class MailAuthentication(_Model):
    """Whose word on a message's sender is trusted (RFC 8601 ``Authentication-Results``, docs/mailbox.md).

    The organisation's own inbound mail server checks SPF/DKIM/DMARC and writes its verdict under its
    ``authserv_id``; it must remove any ``Authentication-Results`` carrying that id that arrives from
    outside. Only the topmost header with that id is read, and only ``dmarc=pass`` for the ``From`` domain
    counts: anything else is handled as a stranger's message.
    """

    authserv_id: str | None = Field(
        default=None, min_length=1, max_length=255, description="the id your inbound mail server writes first in its header"
    )
    required: bool = Field(default=True, description="false only for the demo and tests: From is then believed unchecked")

    @model_validator(mode="after")
    def _one_host(self) -> MailAuthentication:
        if self.authserv_id is not None and any(c in self.authserv_id for c in " ;\t\r\n"):
            raise ValueError("authserv_id must be one host name, e.g. mail.example.org (no spaces or ';')")
        return self


class Mailbox(_Model):
    """The quality mailbox as an evidence source (the IMAP connection itself is Airflow's ``imap_default``)."""

    authentication: MailAuthentication = MailAuthentication()


class Approvals(_Model):
    """Sign-off in the Airflow UI (docs/approvals.md): how long a request waits before it lapses unsent."""

    timeout: timedelta = Field(
        default=timedelta(days=3), description="e.g. 3 days as 'P3D' or seconds; unanswered: not sent, quality team alerted"
    )

    @model_validator(mode="after")
    def _positive(self) -> Approvals:
        if self.timeout <= timedelta(0):
            raise ValueError("approvals.timeout: must be longer than zero")
        return self


PortfolioInclude = Literal["accepted", "accepted_and_unreviewed"]
PORTFOLIO_INCLUDE = ("accepted", "accepted_and_unreviewed")


class Portfolio(_Model):
    """The assessor's evidence portfolio and the link check behind it (docs/portfolio.md)."""

    internal_hosts: tuple[str, ...] = Field(
        default=(), description="hosts only reachable inside the organisation (and their subdomains): links there are not checked"
    )
    link_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    link_concurrency: int = Field(default=8, ge=1, le=64)
    download_days_after: int = Field(
        default=14, ge=0, le=120, description="the assessor's download link expires this many days after the last assessment day"
    )
    include: PortfolioInclude = Field(
        default="accepted", description="which reviewed evidence goes in (docs/review.md): accepted, or accepted_and_unreviewed"
    )

    @field_validator("include", mode="before")
    @classmethod
    def _include(cls, value: Any) -> Any:
        if value not in PORTFOLIO_INCLUDE:
            raise ValueError(
                f"{value!r} is not a choice: use 'accepted' (only items a reviewer accepted) or 'accepted_and_unreviewed' "
                "(also items nobody has reviewed yet); items sent back or marked not relevant never go in"
            )
        return value


class Retention(_Model):
    """How long personal data is kept (docs/security.md): the data_retention DAG deletes what is older."""

    years: int = Field(
        default=6,
        ge=1,
        le=100,
        description="archived mail, quarantine cases and superseded documents are deleted this many years after they came",
    )


class Requests(_Model):
    """How the evidence_requests DAG sends (docs/requests.md, docs/scaling.md)."""

    batch_size: int = Field(
        default=25,
        ge=1,
        le=1000,
        description="departments per mapped task: each task pays Airflow's start-up once for its whole batch",
    )


class OrganisationInfo(_Model):
    name: Name
    short_name: Name


class Organisation(_Model):
    organisation: OrganisationInfo
    framework: Literal["cse", "charter_mark"] = "cse"
    nation: Nation = Field(default=DEFAULT_NATION, description="whose bank holidays count (working days)")
    assessment: Assessment
    schedule: Schedule = Schedule()
    quality_team: QualityTeam
    leadership: tuple[Person, ...] = ()
    departments: tuple[Department, ...] = Field(min_length=1)
    sites: tuple[Site, ...] = ()
    travel: tuple[Travel, ...] = ()
    timetable: TimetableConfig | None = None  # the assessment timetable (docs/timetable.md)
    mailbox: Mailbox = Mailbox()  # who is believed to have sent a mailed file (docs/mailbox.md)
    approvals: Approvals = Approvals()  # sign-off in the Airflow UI (docs/approvals.md)
    portfolio: Portfolio = Portfolio()  # the assessor's evidence portfolio (docs/portfolio.md)
    retention: Retention = Retention()  # how long personal data is kept (docs/security.md)
    requests: Requests = Requests()  # departments per evidence_requests task (docs/scaling.md)

    @model_validator(mode="after")
    def _unique(self) -> Organisation:
        for attr in ("id", "name"):
            seen: set[str] = set()
            for i, d in enumerate(self.departments):
                value = getattr(d, attr)
                if value.lower() in seen:
                    raise ValueError(f"departments[{i}].{attr}: duplicate department {attr} {value!r}")
                seen.add(value.lower())
        site_ids = {s.id for s in self.sites}
        for i, t in enumerate(self.travel):
            for s in t.between:
                if s not in site_ids:
                    raise ValueError(f"travel[{i}].between: unknown site {s!r} (sites: {', '.join(sorted(site_ids))})")
        return self

    def model_post_init(self, context: Any) -> None:
        self.assessment._nation = self.nation

    @property
    def standard(self) -> Standard:
        return load_standard(self.framework)

    @property
    def sender_name(self) -> str:
        """The one display name on every email the pipeline sends (From and Reply-To)."""
        return self.quality_team.sender_name or f"{self.organisation.short_name} quality team"

    @property
    def mail_domain(self) -> str:
        """The organisation's mail domain (the quality mailbox's): Message-IDs and calendar UIDs."""
        return self.quality_team.mailbox.split("@", 1)[1]

    def department(self, department_id: str) -> Department:
        for d in self.departments:
            if d.id == department_id:
                return d
        raise KeyError(f"no department {department_id!r}")

    def owners(self, element_id: str) -> list[Department]:
        return [d for d in self.departments if element_id in d.elements]

    @property
    def unowned_elements(self) -> list[str]:
        owned = {e for d in self.departments for e in d.elements}
        return [e.id for e in self.standard.elements if e.id not in owned]

    def scheduled_date(self, days_before: int) -> date:
        """``days_before`` the assessment's first day, on the calendar (may be a weekend or bank holiday)."""
        return self.assessment.first_day - timedelta(days=days_before)

    def due_date(self, days_before: int) -> date:
        """A date people act on, ``days_before`` the assessment: moved to the working day before when it
        falls on a weekend or a bank holiday of the organisation's nation (never later than configured)."""
        return previous_working_day(self.scheduled_date(days_before), self.nation)

    def moved_because(self, days_before: int) -> str | None:
        """Why :meth:`due_date` differs from the calendar date ('Sunday', 'Easter Monday, a bank holiday'); else None."""
        return day_off(self.scheduled_date(days_before), self.nation)

    @property
    def desk_review(self) -> date:
        """The assessor's desk review of the uploaded evidence (``schedule.desk_review_days_before``), on a working day."""
        return self.due_date(self.schedule.desk_review_days_before)

    @property
    def unreviewed_at_risk_from(self) -> date:
        """From this day unreviewed evidence puts its element at risk: ``schedule.unreviewed_at_risk_working_days``
        working days before the desk review."""
        return working_days_before(self.desk_review, self.schedule.unreviewed_at_risk_working_days, self.nation)

    @property
    def return_deadline(self) -> date:
        return self.due_date(self.schedule.return_days_before)

    @property
    def outcome_due(self) -> date:
        """When the quality lead enters the assessor's outcome (``schedule.outcome_days_after``), on a working day."""
        return previous_working_day(self.assessment.last_day + timedelta(days=self.schedule.outcome_days_after), self.nation)


def _location(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not str(part).startswith(("function-", "constrained-")):
            out += ("." if out else "") + str(part)
    return out or "top level"


def _describe(error: dict[str, Any]) -> str:
    where = _location(tuple(p for p in error["loc"] if p not in ("function-after[_email(), str]",)))
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"{where}: unknown key (check its spelling against config/README or the demo config)"
    if kind == "missing":
        return f"{where}: required key is missing"
    message = str(error["msg"]).removeprefix("Value error, ")
    value = error.get("input")
    if kind in ("date_from_datetime_parsing", "date_parsing", "date_type", "time_parsing", "int_parsing", "literal_error"):
        return f"{where}: {message} (got {value!r})"
    return f"{where}: {message}"


# Grace after the assessment during which the config is still valid (closing pack, outcome entry).
AFTER_ASSESSMENT_GRACE_DAYS = 60


def parse_organisation(data: Any, source: str = "organisation.yaml", today: date | None = None) -> Organisation:
    """Validate parsed YAML; ``today`` (when given) rejects an assessment long past."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping of keys at the top level, got {type(data).__name__}")
    try:
        org = Organisation.model_validate(data)
    except ValidationError as exc:
        lines = [_describe(e) for e in exc.errors()]
        raise ConfigError(f"{source}: {len(lines)} problem(s):\n  - " + "\n  - ".join(lines)) from None
    try:
        standard = org.standard
    except StandardError as exc:
        raise ConfigError(f"{source}: framework: {exc}") from None
    problems = []
    for i, d in enumerate(org.departments):
        for j, element_id in enumerate(d.elements):
            if not standard.has_element(element_id):
                problems.append(
                    f"departments[{i}].elements[{j}]: unknown element id {element_id!r} for {standard.short_name} "
                    f"(department {d.id}; ids look like '1.1.1')"
                )
    if today is not None and org.assessment.last_day < today - timedelta(days=AFTER_ASSESSMENT_GRACE_DAYS):
        problems.append(
            f"assessment.first_day: {org.assessment.first_day} is in the past (today is {today}); "
            "set the date of the next assessment"
        )
    if problems:
        raise ConfigError(f"{source}: {len(problems)} problem(s):\n  - " + "\n  - ".join(problems))
    return org


def load_organisation(path: Path | str, today: date | None = None) -> Organisation:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found (set REACCREDITATION_CONFIG or run scripts/run to make the demo)") from None
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # libyaml: 7x faster, read once per task
    except yaml.YAMLError as exc:
        message = str(exc)
        try:  # the pure-Python loader's message also quotes the offending line
            yaml.safe_load(text)
        except yaml.YAMLError as detailed:
            message = str(detailed)
        raise ConfigError(f"{path}: not valid YAML: {message}") from None
    return parse_organisation(data, source=str(path), today=today)
