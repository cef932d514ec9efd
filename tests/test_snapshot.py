"""The columnar copy of the cohort: the same rows as the database, on both
engines; a new copy after every import, never an old one after a change."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
from sqlmodel import Session

from models.db import get_engine
from partnership import figures, metrics, queries, snapshot, store
from partnership.importers.templates import import_table
from tests.conftest import seed_small

PEOPLE = (
    "child_id,birth_date,sex,ethnicity,send,care_status,locality,cce,cse,gangs,trafficking,missing\n"
    "Z1,15/03/2008,M,white,none,none,north,Y,N,N,N,Y\n"
    "Z2,2007-11-02,F,black,ehcp,former_relevant,east,N,Y,,,\n"
)


def _all_ids(url: str) -> list[int]:
    return queries.load_localities(get_engine(url))["id"].to_list()


def _by_sqlalchemy(url: str) -> dict[str, pl.DataFrame]:
    """The tables through SQLAlchemy's rows and the general reader: the path
    the copy replaced, kept as the reference it must match."""
    engine = get_engine(url)
    return {name: queries._read(engine, sql, schema) for name, (sql, schema) in queries.COHORT_TABLES.items()}


def test_the_copy_holds_exactly_the_database_rows_on_each_engine(db_url: str) -> None:
    seed_small(db_url, 300, 5)
    engine = get_engine(db_url)
    snapshot._memo.clear()
    frames = snapshot.cohort_frames(engine)
    reference = _by_sqlalchemy(db_url)
    for name, frame in frames.items():
        assert frame.schema == reference[name].schema, name
        assert frame.equals(reference[name]), name  # nulls, empty text, dates and booleans alike
    assert frames["young_people"].height == 300
    # Seeding committed a cohort change: the copy was built then, for that version.
    folder = snapshot._root(engine) / queries.cohort_version(engine)
    # Beside the tables, the per-person frames the writer works out once for every first view after it.
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [f"{n}.arrow" for n in queries.COHORT_TABLES] + [snapshot._derived_name(n) for n in figures.PRECOMPUTED]
    )


def test_figures_after_an_import_include_it(sqlite_url: str, tmp_path: Path) -> None:
    seed_small(sqlite_url, 200, 5)
    engine = get_engine(sqlite_url)
    before = queries.load_cohort(engine, _all_ids(sqlite_url)).young_people.height
    path = tmp_path / "people.csv"
    path.write_text(PEOPLE)
    with Session(engine) as session:
        import_table(session, "young_people", path, today=dt.date(2026, 11, 22))
        session.commit()
    after = queries.load_cohort(engine, _all_ids(sqlite_url))
    assert after.young_people.height == before + 2
    # In this process and in a fresh one (no memory of the old copy) alike.
    snapshot._memo.clear()
    assert queries.load_cohort(engine, _all_ids(sqlite_url)).young_people.height == before + 2


def test_a_rejected_import_leaves_the_copy_and_a_staffing_save_keeps_it(sqlite_url: str) -> None:
    seed_small(sqlite_url, 200, 5)
    engine = get_engine(sqlite_url)
    version = queries.cohort_version(engine)
    with Session(engine) as session:
        store.bump_data_version(session)
        session.rollback()
        store.bump_data_version(session, cohort=False)  # as recording a month of staffing does
        session.commit()
    assert queries.cohort_version(engine) == version
    assert [p.name for p in snapshot._root(engine).iterdir()] == [version]


def test_an_import_of_case_records_leaves_what_the_capacity_page_shows(sqlite_url: str, tmp_path: Path) -> None:
    """The capacity page's caches are keyed by the staffing version: an import
    of young people changes the data and cohort versions, not that one; a
    month of staffing changes it."""
    from ui.data import staffing_version

    seed_small(sqlite_url, 200, 5)
    engine = get_engine(sqlite_url)
    before = queries.load_settings(engine)
    path = tmp_path / "people.csv"
    path.write_text(PEOPLE)
    with Session(engine) as session:
        import_table(session, "young_people", path, today=dt.date(2026, 11, 22))
        session.commit()
    after_import = queries.load_settings(engine)
    assert after_import["data_version"] != before["data_version"]
    assert after_import["cohort_version"] != before["cohort_version"]
    assert staffing_version(after_import) == staffing_version(before)
    with Session(engine) as session:
        store.bump_data_version(session, cohort=False)  # as recording a month of staffing does
        session.commit()
    after_staffing = queries.load_settings(engine)
    assert staffing_version(after_staffing) not in (staffing_version(before), after_import["data_version"])
    assert after_staffing["cohort_version"] == after_import["cohort_version"]


def test_a_damaged_copy_is_rebuilt_from_the_database(sqlite_url: str) -> None:
    seed_small(sqlite_url, 200, 5)
    engine = get_engine(sqlite_url)
    folder = snapshot._root(engine) / queries.cohort_version(engine)
    (folder / "outcomes.arrow").write_bytes(b"ARROW1 cut short")
    snapshot._memo.clear()
    frames = snapshot.cohort_frames(engine)
    assert frames["outcomes"].equals(_by_sqlalchemy(sqlite_url)["outcomes"])
    assert pl.read_ipc(folder / "outcomes.arrow").equals(frames["outcomes"])  # and written again, whole


def test_a_scope_sees_only_its_localities(sqlite_url: str) -> None:
    seed_small(sqlite_url, 300, 5)
    engine = get_engine(sqlite_url)
    localities = queries.load_localities(engine)
    east = localities.filter(pl.col("code") == "east")["id"].item()
    cohort = queries.load_cohort(engine, [east])
    assert set(cohort.young_people["locality"]) == {"East"}
    people = set(cohort.young_people["id"])
    for frame in (cohort.episodes, cohort.plans, cohort.risks, cohort.outcomes):
        assert frame.height and set(frame["young_person_id"]) <= people
        assert "scope_locality" not in frame.columns
    # The frames worked out once for every locality come to a viewer with their scope's rows only.
    assert len(cohort._derived) == len(figures.PRECOMPUTED)
    for frame in cohort._derived.values():
        assert frame.height
        if "locality" in frame.columns:
            assert set(frame["locality"]) == {"East"}
        else:
            assert set(frame["young_person_id"]) <= people
    assert queries.load_cohort(engine, []).young_people.height == 0


def test_a_filtered_cohort_keeps_only_its_people_in_what_was_worked_out(sqlite_url: str) -> None:
    seed_small(sqlite_url, 300, 5)
    everyone = queries.load_cohort(get_engine(sqlite_url), _all_ids(sqlite_url))
    send = metrics.filter_cohort(everyone, metrics.CohortFilter(send="send"))
    people = set(send.young_people["id"])
    assert 0 < len(people) < everyone.young_people.height
    assert len(send._derived) == len(figures.PRECOMPUTED)
    for frame in send._derived.values():
        assert set(frame["young_person_id" if "young_person_id" in frame.columns else "id"]) <= people
    # What it carries over is what it would have worked out itself.
    fresh = queries.Cohort(send.young_people, send.episodes, send.plans, send.risks, send.outcomes)
    assert send._derived[("transitions_base",)].equals(metrics.transitions_base(fresh))
    assert (
        send._derived[("risk_people", 90)]
        .sort("young_person_id")
        .equals(figures.risk_people(fresh).sort("young_person_id"))
    )


def test_frames_made_by_earlier_code_are_made_again_not_misread(sqlite_url: str) -> None:
    """A copy outlives an upgrade of the app: derived frames another release
    made (other columns, other rules) are not read as this release's."""
    seed_small(sqlite_url, 200, 5)
    engine = get_engine(sqlite_url)
    folder = snapshot._root(engine) / queries.cohort_version(engine)
    expected = queries.load_cohort(engine, _all_ids(sqlite_url))._derived[("send_pairs",)]
    for name in figures.PRECOMPUTED:  # as an earlier release would have named and shaped them
        current = folder / snapshot._derived_name(name)
        pl.DataFrame({"stale": [1]}).write_ipc(folder / f"derived.000000000000.{name}.arrow")
        current.unlink()
    snapshot._memo.clear()
    cohort = queries.load_cohort(engine, _all_ids(sqlite_url))
    assert cohort._derived[("send_pairs",)].equals(expected)
    assert pl.read_ipc(folder / snapshot._derived_name("send_pairs")).equals(expected)  # and kept for the next reader
