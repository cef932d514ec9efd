"""Data layer on SQLite and PostgreSQL: schema, constraints, seed, scoped queries, accounts."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from models import AuditEvent, Locality, OutcomeObservation, User, YoungPerson
from models.db import get_engine, upgrade
from models.reference import load_reference
from partnership import accounts, queries
from partnership.access import Viewer, scope_localities
from tests.conftest import DEMO_AS_OF, seed_small


def _reference(url: str) -> Session:
    upgrade(url)
    session = Session(get_engine(url))
    load_reference(session)
    session.commit()
    return session


def test_upgrade_creates_every_table_and_is_repeatable(db_url: str) -> None:
    upgrade(db_url)
    upgrade(db_url)  # a second upgrade is a no-op, not an error
    tables = set(inspect(get_engine(db_url)).get_table_names())
    assert {
        "youngperson",
        "serviceepisode",
        "transitionplan",
        "riskassessment",
        "outcomeobservation",
        "post",
        "postsnapshot",
        "theme",
        "intendedimpact",
        "indicator",
        "indicatorvalue",
        "milestone",
        "user",
        "auditevent",
        "alembic_version",
    } <= tables


@pytest.mark.parametrize(
    ("field", "bad"),
    [("activity", "F3"), ("activity", "P3"), ("accommodation", "S1"), ("accommodation", "X1"), ("in_touch", "NOPE")],
)
def test_check_constraints_refuse_retired_and_impossible_903_codes(db_url: str, field: str, bad: str) -> None:
    with _reference(db_url) as session:
        loc = session.exec(select(Locality)).first()
        yp = YoungPerson(
            pseudo_key="x" * 64, birth_month=dt.date(2007, 1, 1), sex="F", ethnicity="white", locality_id=loc.id
        )
        session.add(yp)
        session.commit()
        session.add(OutcomeObservation(young_person_id=yp.id, observed_on=dt.date(2026, 1, 1), **{field: bad}))
        with pytest.raises(IntegrityError):
            session.commit()


def test_manager_account_needs_a_locality_in_the_database_too(db_url: str) -> None:
    with _reference(db_url) as session:
        session.add(User(username="m", display_name="M", role="manager", password_hash="x"))
        with pytest.raises(IntegrityError):
            session.commit()


def test_seed_and_scoped_queries(db_url: str) -> None:
    counts = seed_small(db_url, 300, 5)
    assert counts["youngperson"] == 300
    engine = get_engine(db_url)
    with Session(engine) as session:
        east = session.exec(select(Locality).where(Locality.code == "east")).one()
        all_ids = [loc.id for loc in session.exec(select(Locality))]
        in_east = session.exec(
            select(func.count()).select_from(YoungPerson).where(YoungPerson.locality_id == east.id)
        ).one()
    # A manager asking for everything gets East only, and every frame holds East's young people only.
    ids = scope_localities(Viewer("manager_east", "manager", east.id), all_ids, all_ids)
    cohort = queries.load_cohort(engine, ids)
    assert cohort.young_people.height == in_east
    assert set(cohort.young_people["locality"]) == {"East"}
    east_people = set(cohort.young_people["id"])
    for frame in (cohort.episodes, cohort.plans, cohort.risks, cohort.outcomes):
        assert set(frame["young_person_id"]) <= east_people
    staffing = queries.load_staffing(engine, ids)
    assert set(staffing["locality"]) == {"East"}
    # East has 2 teams x 7 posts + East Team 2's extra family support worker + 5 shared = 20 posts.
    assert staffing["post_id"].n_unique() == 20
    assert queries.load_settings(engine)["synthetic"] == "true"
    assert queries.as_of_date(queries.load_settings(engine)) == DEMO_AS_OF


def test_seed_is_all_or_nothing_and_replaces_previous_demo(db_url: str) -> None:
    seed_small(db_url, 200, 1)
    seed_small(db_url, 150, 2)
    with Session(get_engine(db_url)) as session:
        assert session.exec(select(func.count()).select_from(YoungPerson)).one() == 150
        assert len(session.exec(select(User)).all()) == 6


def test_accounts_add_disable_reset_and_audit(db_url: str) -> None:
    with _reference(db_url) as session:
        accounts.add_user(session, "jo.smith", "Jo Smith", "manager", "a-long-password", "north")
        session.commit()
        with pytest.raises(accounts.AccountError, match="locality"):
            accounts.add_user(session, "kim", "Kim", "manager", "a-long-password")
        with pytest.raises(accounts.AccountError, match="unknown role"):
            accounts.add_user(session, "kim", "Kim", "root", "a-long-password")
        with pytest.raises(accounts.AccountError, match="at least"):
            accounts.add_user(session, "kim", "Kim", "board", "short")
        with pytest.raises(accounts.AccountError, match="already exists"):
            accounts.add_user(session, "jo.smith", "Jo", "board", "a-long-password")
        user = accounts.get_user(session, "jo.smith")
        assert user.password_hash != "a-long-password"
        assert accounts.check_password("a-long-password", user.password_hash)
        assert not accounts.check_password("wrong-password", user.password_hash)
        accounts.set_disabled(session, "jo.smith", True)
        user.failed_attempts = 4
        accounts.reset_password(session, "jo.smith", "another-long-one")
        session.commit()
        session.refresh(user)
        assert user.disabled and user.failed_attempts == 0
        assert accounts.check_password("another-long-one", user.password_hash)
        actions = [e.action for e in session.exec(select(AuditEvent).order_by(AuditEvent.id))]
        assert actions == ["user_added", "user_disabled", "password_reset"]
