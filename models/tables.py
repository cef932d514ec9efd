"""SQLModel tables: the one place the schema is written.

Coded fields carry CHECK constraints built from ``models.codes`` so the
database refuses an unknown code even when a caller bypasses the importers.
Indexes sit on what pages filter by: locality, dates, service, young person.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from models import codes


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --- organisation and staffing -------------------------------------------------


class Locality(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=20, unique=True, index=True)
    name: str = Field(max_length=60)


class Team(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint("kind IN ('empower', 'prevention_diversion')", name="team_kind"),
        UniqueConstraint("name", name="uq_team_name"),
    )
    id: int | None = Field(default=None, primary_key=True)
    locality_id: int = Field(foreign_key="locality.id", index=True)
    name: str = Field(max_length=60)
    kind: str = Field(default="empower", max_length=30)


class Role(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True, index=True)
    name: str = Field(max_length=80)
    # Social workers hold cases; caseload per FTE is measured over them only,
    # as in the DfE children's social work workforce statistics.
    case_holding: bool = False
    # False for the multi-disciplinary roles the seed adds without numbers.
    in_staffing_structure: bool = True


class Post(SQLModel, table=True):
    """One funded post of the establishment; team_id is null for a post shared
    by the teams of its locality."""

    __table_args__ = (CheckConstraint("fte > 0", name="post_fte_positive"),)
    id: int | None = Field(default=None, primary_key=True)
    locality_id: int = Field(foreign_key="locality.id", index=True)
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True)
    role_id: int = Field(foreign_key="role.id", index=True)
    fte: float = 1.0
    note: str | None = Field(default=None, max_length=120)


class PostSnapshot(SQLModel, table=True):
    """Staffing of one post in one month. A correction adds a higher version;
    earlier versions are kept as history."""

    __table_args__ = (
        UniqueConstraint("post_id", "month", "version", name="uq_snapshot_version"),
        CheckConstraint("filled_fte >= 0", name="snapshot_filled_nonneg"),
        CheckConstraint("agency_fte >= 0", name="snapshot_agency_nonneg"),
        CheckConstraint("vacant_fte >= 0", name="snapshot_vacant_nonneg"),
        CheckConstraint("cases_held >= 0", name="snapshot_cases_nonneg"),
        CheckConstraint("version >= 1", name="snapshot_version_positive"),
    )
    id: int | None = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="post.id", index=True)
    month: dt.date = Field(index=True)
    filled_fte: float
    agency_fte: float = 0.0
    vacant_fte: float = 0.0
    cases_held: int = 0
    version: int = 1
    recorded_by: str = Field(default="system", max_length=60)
    recorded_at: dt.datetime = Field(default_factory=_utcnow)


class Funding(SQLModel, table=True):
    """Grant lines from the staffing seed; money in pence so sums are exact."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    amount_pence: int
    committed_on: dt.date | None = None
    funded_until: dt.date | None = None
    note: str | None = Field(default=None, max_length=240)
    parent_id: int | None = Field(default=None, foreign_key="funding.id")


# --- young people and their journeys -------------------------------------------


class YoungPerson(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint(codes.sql_in("sex", codes.SEX), name="yp_sex"),
        CheckConstraint(codes.sql_in("ethnicity", codes.ETHNICITY_GROUPS), name="yp_ethnicity"),
        CheckConstraint(codes.sql_in("send", codes.SEND_STATUS), name="yp_send"),
        CheckConstraint(codes.sql_in("care_status", codes.CARE_STATUS), name="yp_care_status"),
        Index("ix_yp_locality_birth", "locality_id", "birth_month"),
    )
    id: int | None = Field(default=None, primary_key=True)
    # Keyed hash (HMAC-SHA256) of the source system's id: never the id itself.
    pseudo_key: str = Field(max_length=64, unique=True, index=True)
    # Always the first day of the month of birth: the day is not kept.
    birth_month: dt.date = Field(index=True)
    sex: str = Field(max_length=1)
    ethnicity: str = Field(max_length=10)
    send: str = Field(default="none", max_length=12)
    care_status: str = Field(default="none", max_length=16)
    locality_id: int = Field(foreign_key="locality.id", index=True)
    cce: bool = False
    cse: bool = False
    gangs: bool = False
    trafficking: bool = False
    missing: bool = False
    source: str = Field(default="synthetic", max_length=20)


class ServiceEpisode(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint(codes.sql_in("service", codes.SERVICES), name="episode_service"),
        CheckConstraint(
            "end_reason IS NULL OR " + codes.sql_in("end_reason", codes.END_REASONS),
            name="episode_end_reason",
        ),
        CheckConstraint("ended_on IS NULL OR ended_on >= started_on", name="episode_dates"),
        Index("ix_episode_service_dates", "service", "started_on", "ended_on"),
    )
    id: int | None = Field(default=None, primary_key=True)
    young_person_id: int = Field(foreign_key="youngperson.id", index=True)
    service: str = Field(max_length=24)
    team_id: int | None = Field(default=None, foreign_key="team.id")
    started_on: dt.date
    ended_on: dt.date | None = None
    end_reason: str | None = Field(default=None, max_length=24)


class TransitionPlan(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint(
            "post18_service IS NULL OR " + codes.sql_in("post18_service", codes.ADULT_SERVICES),
            name="plan_service",
        ),
        CheckConstraint(
            "agreed_on IS NULL OR started_on IS NULL OR agreed_on >= started_on",
            name="plan_dates",
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    young_person_id: int = Field(foreign_key="youngperson.id", unique=True, index=True)
    started_on: dt.date | None = None
    agreed_on: dt.date | None = None
    post18_service: str | None = Field(default=None, max_length=24)


class RiskAssessment(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint(codes.sql_in("agency", codes.RISK_AGENCIES), name="risk_agency"),
        CheckConstraint(codes.sql_in("level", codes.RISK_LEVELS), name="risk_level"),
    )
    id: int | None = Field(default=None, primary_key=True)
    young_person_id: int = Field(foreign_key="youngperson.id", index=True)
    agency: str = Field(max_length=12)
    assessed_on: dt.date = Field(index=True)
    level: str = Field(max_length=10)


class OutcomeObservation(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint(
            "activity IS NULL OR " + codes.sql_in("activity", codes.ACTIV),
            name="outcome_activ",
        ),
        CheckConstraint(
            "accommodation IS NULL OR " + codes.sql_in("accommodation", codes.ACCOM),
            name="outcome_accom",
        ),
        CheckConstraint(
            "in_touch IS NULL OR " + codes.sql_in("in_touch", codes.IN_TOUCH),
            name="outcome_in_touch",
        ),
        CheckConstraint(
            "missing_episodes >= 0 AND ae_attendances >= 0 AND police_custody >= 0 AND emergency_housing >= 0",
            name="outcome_counts_nonneg",
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    young_person_id: int = Field(foreign_key="youngperson.id", index=True)
    observed_on: dt.date = Field(index=True)
    activity: str | None = Field(default=None, max_length=2)
    accommodation: str | None = Field(default=None, max_length=2)
    in_touch: str | None = Field(default=None, max_length=4)
    missing_episodes: int = 0
    ae_attendances: int = 0
    police_custody: int = 0
    emergency_housing: int = 0


# --- programme: themes, impacts, indicators, milestones ------------------------


class Theme(SQLModel, table=True):
    __table_args__ = (CheckConstraint("number BETWEEN 1 AND 4", name="theme_number"),)
    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(unique=True)
    title: str = Field(max_length=300)
    short_title: str = Field(max_length=60)


class IntendedImpact(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    theme_id: int = Field(foreign_key="theme.id", index=True)
    position: int = 1
    text: str = Field(max_length=600)


class Indicator(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint(codes.sql_in("unit", codes.INDICATOR_UNITS), name="indicator_unit"),
        CheckConstraint(codes.sql_in("polarity", codes.POLARITIES), name="indicator_polarity"),
        CheckConstraint("source IN ('computed', 'entered')", name="indicator_source"),
        CheckConstraint(
            "source = 'entered' OR metric_key IS NOT NULL",
            name="indicator_computed_has_metric",
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    impact_id: int = Field(foreign_key="intendedimpact.id", index=True)
    code: str = Field(max_length=40, unique=True)
    name: str = Field(max_length=200)
    unit: str = Field(max_length=10)
    polarity: str = Field(max_length=6)
    baseline: float | None = None
    baseline_period: str | None = Field(default=None, max_length=20)
    target: float | None = None
    target_date: dt.date | None = None
    source: str = Field(default="entered", max_length=10)
    # Name of the cohort metric that computes it (see partnership.metrics).
    metric_key: str | None = Field(default=None, max_length=40)


class IndicatorValue(SQLModel, table=True):
    """Values of entered indicators. A correction adds a new version; the old
    row stays, so history is never overwritten."""

    __table_args__ = (UniqueConstraint("indicator_id", "period", "version", name="uq_indicator_value_version"),)
    id: int | None = Field(default=None, primary_key=True)
    indicator_id: int = Field(foreign_key="indicator.id", index=True)
    period: dt.date
    value: float
    note: str | None = Field(default=None, max_length=500)
    version: int = 1
    entered_by: str = Field(default="system", max_length=60)
    entered_at: dt.datetime = Field(default_factory=_utcnow)


class Milestone(SQLModel, table=True):
    __table_args__ = (CheckConstraint(codes.sql_in("status", codes.MILESTONE_STATUS), name="milestone_status"),)
    id: int | None = Field(default=None, primary_key=True)
    theme_id: int = Field(foreign_key="theme.id", index=True)
    title: str = Field(max_length=200)
    owner: str = Field(max_length=80)
    due_on: dt.date
    status: str = Field(default="on_track", max_length=10)
    completed_on: dt.date | None = None


# --- people who use the dashboard ----------------------------------------------


class User(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint(codes.sql_in("role", codes.USER_ROLES), name="user_role"),
        # A manager without a locality would have no scope: refuse it outright.
        CheckConstraint("role <> 'manager' OR locality_id IS NOT NULL", name="user_manager_locality"),
    )
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=40, unique=True, index=True)
    display_name: str = Field(max_length=80)
    email: str = Field(default="", max_length=120)
    role: str = Field(max_length=14)
    locality_id: int | None = Field(default=None, foreign_key="locality.id")
    password_hash: str = Field(max_length=100)
    failed_attempts: int = 0
    disabled: bool = False
    created_at: dt.datetime = Field(default_factory=_utcnow)


class AuditEvent(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = Field(default_factory=_utcnow, index=True)
    username: str = Field(default="", max_length=40, index=True)
    action: str = Field(max_length=40)
    details: str = Field(default="", max_length=1000)


class UserSession(SQLModel, table=True):
    """One sign-in, kept on the server: the browser's cookie holds only the
    session's random id (signed), stored here as its SHA-256, so a copy of the
    database gives no live cookie. Ending a session is a write here, seen by
    every app process at its next run."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    username: str = Field(max_length=40, index=True)
    created_at: dt.datetime = Field(default_factory=_utcnow)
    last_seen_at: dt.datetime = Field(default_factory=_utcnow)
    ended_at: dt.datetime | None = Field(default=None, index=True)
    ended_reason: str = Field(default="", max_length=40)
    address: str = Field(default="", max_length=64)
    # A single-use ticket the browser trades for the HttpOnly cookie right
    # after sign-in (the page never holds the session id itself).
    ticket_hash: str | None = Field(default=None, max_length=64, index=True)
    ticket_expires_at: dt.datetime | None = None


class SignInFailure(SQLModel, table=True):
    """A failed sign-in, by address: the back-off reads these. Cleared for an
    account when it signs in or an administrator resets it."""

    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = Field(default_factory=_utcnow, index=True)
    address: str = Field(default="", max_length=64, index=True)
    username: str = Field(default="", max_length=40, index=True)
    # Counted against a real account's lock (an address stops counting once
    # it alone would bring the account to its limit).
    counted: bool = False


class Setting(SQLModel, table=True):
    """Small key/value facts about the database itself, e.g. that it holds
    synthetic demo data, and a data version that caches are keyed by."""

    key: str = Field(primary_key=True, max_length=40)
    value: str = Field(max_length=200)


# --- published benchmarks and imports --------------------------------------------


class BenchmarkValue(SQLModel, table=True):
    """One indicator value of a DfE Explore Education Statistics tidy file.
    A suppressed or unavailable value keeps its GSS symbol and no number."""

    __table_args__ = (
        CheckConstraint("symbol IS NULL OR symbol IN ('c', 'z', 'x', 'k', 'low', 'u')", name="benchmark_symbol"),
        CheckConstraint("value IS NOT NULL OR symbol IS NOT NULL", name="benchmark_value_or_symbol"),
        Index("ix_benchmark_lookup", "dataset", "indicator", "geographic_level", "geo_code"),
    )
    id: int | None = Field(default=None, primary_key=True)
    dataset: str = Field(max_length=80)
    time_period: str = Field(max_length=12)
    geographic_level: str = Field(max_length=30)
    # old_la_code for a local authority, region_code for a region, country_code for England.
    geo_code: str = Field(max_length=12)
    geo_name: str = Field(max_length=80)
    region_code: str | None = Field(default=None, max_length=12)
    filters: str = Field(default="", max_length=400)  # "column=value|column=value", sorted
    indicator: str = Field(max_length=60)
    value: float | None = None
    symbol: str | None = Field(default=None, max_length=4)


class StatNeighbour(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("la_code", "rank", name="uq_neighbour_rank"),)
    id: int | None = Field(default=None, primary_key=True)
    la_code: str = Field(max_length=6, index=True)
    la_name: str = Field(max_length=80)
    neighbour_code: str = Field(max_length=6)
    rank: int
    closeness: str = Field(default="", max_length=30)


class ImportBatch(SQLModel, table=True):
    """An accepted import: what came in, from where, checked by checksum so
    the same file twice changes nothing the second time."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=30, index=True)
    source: str = Field(max_length=80)
    file_name: str = Field(max_length=200)
    checksum: str = Field(max_length=64, index=True)
    rows: str = Field(default="", max_length=500)  # "table=count|table=count"
    imported_by: str = Field(default="cli", max_length=40)
    imported_at: dt.datetime = Field(default_factory=_utcnow)


class Scenario(SQLModel, table=True):
    """A saved 'what if' for staffing. Never mixed with recorded figures: it
    is shown only where it is labelled as a scenario."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80)
    month: dt.date
    locality_id: int | None = Field(default=None, foreign_key="locality.id")
    changes: str = Field(max_length=4000)  # JSON: {"fill": {team: fte}, "add": {team: fte}}
    created_by: str = Field(max_length=40)
    created_at: dt.datetime = Field(default_factory=_utcnow)


class ThemeCommentary(SQLModel, table=True):
    """The project lead's narrative for a theme and period. Stored and shown
    as plain text; a rewrite adds a version and keeps the earlier one."""

    __table_args__ = (UniqueConstraint("theme_id", "period", "version", name="uq_commentary_version"),)
    id: int | None = Field(default=None, primary_key=True)
    theme_id: int = Field(foreign_key="theme.id", index=True)
    period: dt.date
    text: str = Field(max_length=2000)
    version: int = 1
    written_by: str = Field(max_length=40)
    written_at: dt.datetime = Field(default_factory=_utcnow)


class MissingEpisode(SQLModel, table=True):
    """A period missing (M) or away without authorisation (A), as the 903 records it."""

    __table_args__ = (
        CheckConstraint("kind IN ('M', 'A')", name="missing_kind"),
        CheckConstraint("ended_on IS NULL OR ended_on >= started_on", name="missing_dates"),
    )
    id: int | None = Field(default=None, primary_key=True)
    young_person_id: int = Field(foreign_key="youngperson.id", index=True)
    kind: str = Field(max_length=1)
    started_on: dt.date
    ended_on: dt.date | None = None


class ImportRejection(SQLModel, table=True):
    """A refused import, kept so the data-quality page can show what went
    wrong. It is a log like the audit table: a rejection writes nothing to
    any data table."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=30, index=True)
    file_name: str = Field(max_length=200)
    problem_count: int = 0
    rows: int = 0
    problems: str = Field(default="", max_length=20000)  # first 200 problems, one per line
    attempted_by: str = Field(default="cli", max_length=40)
    attempted_at: dt.datetime = Field(default_factory=_utcnow, index=True)


class Story(SQLModel, table=True):
    """A saved presentation: ordered views with their filters. A story 'for
    the board' is always shown with board-level suppression, whoever presents."""

    __table_args__ = (UniqueConstraint("name", name="uq_story_name"),)
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80)
    for_board: bool = True
    steps: str = Field(max_length=8000)  # JSON: [{"view": "themes.summary", "filters": {"locality": "east"}}]
    created_by: str = Field(max_length=40)
    updated_at: dt.datetime = Field(default_factory=_utcnow)


# --- the board publication ------------------------------------------------------------


class Publication(SQLModel, table=True):
    """Everything the area board sees of one data version, worked out once,
    disclosed and audited together (partnership/publication.py). A build is a
    row from its start: the board reads the newest one that is ready, so a
    build that fails or is stopped leaves the last publication in place."""

    __table_args__ = (CheckConstraint("status IN ('building', 'ready', 'failed', 'held')", name="publication_status"),)
    id: int | None = Field(default=None, primary_key=True)
    status: str = Field(default="building", max_length=10, index=True)
    reason: str = Field(max_length=40)  # scheduled, the lead, the command line, the demo
    requested_by: str = Field(max_length=40)
    started_at: dt.datetime = Field(default_factory=_utcnow)
    finished_at: dt.datetime | None = None
    data_version: str = Field(default="", max_length=40)
    as_of: dt.date | None = None
    threshold: int = 5
    figures: int = 0  # figures published
    hidden: int = 0  # of which hidden
    summary: str = Field(default="", max_length=4000)  # what the joint check found, in words
    code: str = Field(default="", max_length=20)  # the code that made it: older ones are made again


class PublicationPart(SQLModel, table=True):
    """One stored piece of a publication (a page's view, a chart, the people
    behind a population's figures for the next publication's check), signed
    so that only this product's code made it."""

    __table_args__ = (UniqueConstraint("publication_id", "name", name="uq_publication_part"),)
    id: int | None = Field(default=None, primary_key=True)
    publication_id: int = Field(foreign_key="publication.id", index=True)
    name: str = Field(max_length=200)
    payload: bytes
