"""The demo generator: deterministic, calibrated to DfE figures, with a story."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from sqlmodel import Session

from models.db import get_engine, upgrade
from models.reference import load_reference
from partnership import figures, metrics, synthetic
from partnership.demo import org_refs
from partnership.queries import Cohort

AS_OF = dt.date(2026, 11, 1)
KEY = b"k" * 32


@pytest.fixture(scope="module")
def refs(tmp_path_factory: pytest.TempPathFactory) -> synthetic.OrgRefs:
    url = f"sqlite:///{tmp_path_factory.mktemp('gen') / 'ref.db'}"
    upgrade(url)
    with Session(get_engine(url)) as session:
        load_reference(session)
        session.commit()
        return org_refs(session)


@pytest.fixture(scope="module")
def big(refs: synthetic.OrgRefs) -> dict[str, pl.DataFrame]:
    return synthetic.generate(20_000, 3, AS_OF, refs, KEY)


def _cohort(frames: dict[str, pl.DataFrame]) -> Cohort:
    names = {1: "East", 2: "Central", 3: "North"}
    yp = frames["youngperson"].with_columns(locality=pl.col("locality_id").replace_strict(names))
    return Cohort(
        yp, frames["serviceepisode"], frames["transitionplan"], frames["riskassessment"], frames["outcomeobservation"]
    )


def test_same_seed_same_data_other_seed_other_data(refs: synthetic.OrgRefs) -> None:
    a = synthetic.generate(500, 9, AS_OF, refs, KEY)
    b = synthetic.generate(500, 9, AS_OF, refs, KEY)
    c = synthetic.generate(500, 10, AS_OF, refs, KEY)
    for table in a:
        assert a[table].equals(b[table]), table
    assert not a["youngperson"].equals(c["youngperson"])


def test_ages_and_localities(big: dict[str, pl.DataFrame]) -> None:
    yp = big["youngperson"]
    ages = metrics.age_years(pl.col("birth_month"), AS_OF)
    assert yp.select(ages.min()).item() == 14 and yp.select(ages.max()).item() == 25
    assert (yp["birth_month"].dt.day() == 1).all()  # month of birth only
    shares = yp["locality_id"].value_counts(normalize=True).sort("locality_id")["proportion"].to_list()
    assert shares == pytest.approx([0.30, 0.42, 0.28], abs=0.02)


def test_neet_calibrated_to_dfe_care_leavers(big: dict[str, pl.DataFrame]) -> None:
    out = figures.Figures(_cohort(big), AS_OF, False, 5, ["East"]).outcomes("12m")
    # DfE 2025, England: care leavers NEET 30% at 17-18 and 40% at 19-21 (young people, latest record).
    assert out["neet_17_18|12m|all"] == pytest.approx(30, abs=6)
    assert out["neet_19_21|12m|all"] == pytest.approx(40, abs=6)


def test_staffing_calibrated_to_workforce_figures(big: dict[str, pl.DataFrame]) -> None:
    snaps = big["postsnapshot"]
    assert snaps["month"].n_unique() == 36 and snaps.height == 36 * 65
    vacancy = snaps["vacant_fte"].sum() / (snaps["filled_fte"].sum() + snaps["vacant_fte"].sum())
    assert 0.06 < vacancy < 0.25
    assert ((snaps["filled_fte"] + snaps["vacant_fte"]) == 1.0).all()
    holders = snaps.filter(pl.col("cases_held") > 0)
    caseload = holders["cases_held"].sum() / (holders["filled_fte"] + holders["agency_fte"]).sum()
    assert 13 < caseload < 19  # England 15.2


def test_the_story_north_plans_later_and_no_plan_means_fewer_picked_up(big: dict[str, pl.DataFrame]) -> None:
    trans = metrics.transitions(_cohort(big), AS_OF).filter(pl.col("window_3m"))
    by_plan = dict(trans.group_by("plan").agg(pl.col("picked_3m").mean()).iter_rows())
    assert by_plan["on time"] > by_plan["late"] > by_plan["none"]
    by_loc = dict(trans.group_by("locality").agg((pl.col("plan") == "on time").mean()).iter_rows())
    assert by_loc["North"] < by_loc["East"] < by_loc["Central"]


def test_nothing_is_dated_after_the_datas_own_date(big: dict[str, pl.DataFrame]) -> None:
    """A demo must not show 'recorded 5 January 2027' on 2 December 2026:
    every date and time in every table is on or before the as-of date."""
    late = {}
    for name, frame in big.items():
        for column, dtype in frame.schema.items():
            if dtype == pl.Date:
                latest = frame[column].max()
            elif isinstance(dtype, pl.Datetime):
                value = frame[column].max()
                latest = value.date() if value is not None else None
            else:
                continue
            if latest is not None and latest > AS_OF:  # type: ignore[operator]
                late[f"{name}.{column}"] = latest
    assert not late, late
