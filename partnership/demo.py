"""Build the synthetic demo partnership in a database."""

from __future__ import annotations

import datetime as dt
import time

import polars as pl
from sqlalchemy import delete
from sqlmodel import Session, select

from models import (
    Indicator,
    IndicatorValue,
    Locality,
    MissingEpisode,
    OutcomeObservation,
    Post,
    PostSnapshot,
    RiskAssessment,
    Role,
    ServiceEpisode,
    Story,
    Team,
    TransitionPlan,
    YoungPerson,
)
from models.db import get_engine, upgrade
from models.reference import load_reference
from partnership import accounts, store, stories, synthetic
from partnership.importers.benchmark import import_benchmark, import_neighbours
from partnership.settings import DATA_DIR, get_settings, pseudonym_key

REFERENCE = DATA_DIR / "reference"
COMPARATOR_FILES = [
    ("dfe_care_leavers_activity_2023_2025.csv", "la_care_leavers_activity"),
    ("dfe_csww_indicators_2017_to_2025.csv", "csww_indicators"),
]

# Children before parents on delete, parents before children on insert.
COHORT_TABLES = [MissingEpisode, OutcomeObservation, RiskAssessment, TransitionPlan, ServiceEpisode, YoungPerson]
INSERT_ORDER = [
    "youngperson",
    "serviceepisode",
    "transitionplan",
    "riskassessment",
    "outcomeobservation",
    "postsnapshot",
]


def load_comparators(session: Session) -> list[str]:
    """Published DfE comparators shipped in data/reference; each file is
    skipped when an identical one was imported before."""
    messages = [
        import_benchmark(session, REFERENCE / name, dataset, actor="system") for name, dataset in COMPARATOR_FILES
    ]
    messages.append(import_neighbours(session, REFERENCE / "dfe_statistical_neighbours_2021.csv", actor="system"))
    return messages


def org_refs(session: Session) -> synthetic.OrgRefs:
    localities = {loc.id: loc.code for loc in session.exec(select(Locality))}
    teams: dict[str, list[int]] = {code: [] for code in localities.values()}
    for team in session.exec(select(Team).where(Team.kind == "empower").order_by(Team.id)):
        teams[localities[team.locality_id]].append(int(team.id))  # type: ignore[arg-type]
    roles = {role.id: role.case_holding for role in session.exec(select(Role))}
    posts = pl.DataFrame(
        [
            {
                "id": p.id,
                "locality_code": localities[p.locality_id],
                "team_id": p.team_id,
                "case_holding": roles[p.role_id],
            }
            for p in session.exec(select(Post).order_by(Post.id))
        ],
        schema={"id": pl.Int64, "locality_code": pl.String, "team_id": pl.Int64, "case_holding": pl.Boolean},
    )
    return synthetic.OrgRefs({code: i for i, code in localities.items()}, teams, posts)


def seed_demo(
    url: str,
    young_people: int = 2000,
    seed: int = 2024,
    as_of: dt.date | None = None,
    password: str | None = None,
    publish: bool = True,
) -> dict[str, int]:
    """Replace all cohort and staffing data with a synthetic partnership and
    mark the database as synthetic. One transaction: all or nothing. Then
    (unless `publish` is off) the board's first publication, so a board
    member signing in to the demo sees figures at once."""
    as_of = (as_of or dt.date.today()).replace(day=1)
    upgrade(url)
    engine = get_engine(url)
    counts: dict[str, int] = {}
    started = time.perf_counter()
    with Session(engine) as session:
        load_reference(session)
        load_comparators(session)
        session.commit()
        refs = org_refs(session)
        frames = synthetic.generate(young_people, seed, as_of, refs, pseudonym_key())
        entered = pl.DataFrame(
            [
                {"id": i.id, "code": i.code, "baseline": i.baseline, "target": i.target}
                for i in session.exec(select(Indicator).where(Indicator.source == "entered"))
            ]
        )
        frames["indicatorvalue"] = synthetic.entered_indicator_values(seed, entered, as_of)
        for model in [*COHORT_TABLES, PostSnapshot, IndicatorValue]:
            session.exec(delete(model))  # type: ignore[call-overload]
        conn = session.connection()
        for table in [*INSERT_ORDER, "indicatorvalue"]:
            counts[table] = store.bulk_insert(conn, table, frames[table])
        store.set_setting(session, "synthetic", "true")
        store.set_setting(session, "as_of", as_of.isoformat())
        store.set_setting(session, "demo_seed", str(seed))
        store.bump_data_version(session)
        accounts.add_demo_users(session, password or get_settings().demo_password)
        _demo_story(session, as_of)
        accounts.audit(session, "system", "seed_demo", f"young_people={young_people} seed={seed} as_of={as_of}")
        session.commit()
    if publish:
        from partnership import publication

        publication.build(engine, "demo", "seed-demo", force=True)
    counts["seconds"] = round(time.perf_counter() - started, 1)  # type: ignore[assignment]
    return counts


def _demo_story(session: Session, as_of: dt.date) -> None:
    """A board-meeting story to start from, as the issue sketches it. The
    cohort steps show last year: young people who turned 18 in the last 12
    months are mostly not yet 19, so their outcomes are not known."""
    if session.exec(select(Story).where(Story.name == "Board meeting")).first() is None:
        last_year = {"period": str(as_of.year - 1)}
        steps = [stories.Step(v, last_year if v.startswith("cohort.") else {}) for v in stories.BOARD_MEETING]
        stories.save_story(session, "Board meeting", True, steps, "lead")


def ensure_database(url: str, log: callable = print) -> bool:  # type: ignore[valid-type]
    """First start: create the schema, reference data and the demo partnership
    when the database has no young people and no users. Returns True if it
    built the demo."""
    upgrade(url)
    with Session(get_engine(url)) as session:
        load_reference(session)
        load_comparators(session)
        session.commit()
        has_users = session.exec(select(accounts.User)).first() is not None
    if has_users:
        return False
    log(f"No data yet: building the synthetic demo partnership in {_display(url)} ...")
    counts = seed_demo(url)
    log(
        f"Synthetic demo data ready: {counts['youngperson']} young people. "
        "Sign in as admin, lead, board, manager_east, manager_central or manager_north."
    )
    return True


def _display(url: str) -> str:
    # Never print a password that may sit in a PostgreSQL URL.
    if "@" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url
