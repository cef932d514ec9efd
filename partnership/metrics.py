"""Cohort metrics: plain functions of polars frames, computed once here and
tested against hand-worked cohorts. They never know who is looking; the
disclosure layer is applied to what they return."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from models.codes import (
    ACCOM_HOMELESS,
    ACTIV_EET,
    ACTIV_NEET,
    ADULT_SERVICES,
    CHILDREN_SERVICES,
    INTENSIVE_SERVICES,
)
from partnership.queries import Cohort

CHILDREN = list(CHILDREN_SERVICES)
ADULT = list(ADULT_SERVICES)
PICKUP_WINDOW = "3mo"  # adult service within 3 months of the 18th birthday
SLIPPED_WINDOW = "6mo"  # no adult service within 6 months: slipped through the net


@dataclass(frozen=True)
class CohortFilter:
    """Cohort filters from the shared filter bar (localities are scope, applied in the query layer)."""

    send: str = "all"  # all | send | no_send
    care: str = "all"  # all | care_experienced | not_care
    exploitation: str = "all"  # all | cce | cse | gangs | trafficking | missing


def filter_cohort(cohort: Cohort, flt: CohortFilter) -> Cohort:
    yp = cohort.young_people
    if flt.send == "send":
        yp = yp.filter(pl.col("send") != "none")
    elif flt.send == "no_send":
        yp = yp.filter(pl.col("send") == "none")
    if flt.care == "care_experienced":
        yp = yp.filter(pl.col("care_status") != "none")
    elif flt.care == "not_care":
        yp = yp.filter(pl.col("care_status") == "none")
    if flt.exploitation in ("cce", "cse", "gangs", "trafficking", "missing"):
        yp = yp.filter(pl.col(flt.exploitation))
    if yp.height == cohort.young_people.height:
        return cohort
    return cohort.narrowed(yp)


def with_ages(yp: pl.DataFrame) -> pl.DataFrame:
    return yp.with_columns(
        b16=pl.col("birth_month").dt.offset_by("16y"),
        b17_6=pl.col("birth_month").dt.offset_by("17y6mo"),
        b18=pl.col("birth_month").dt.offset_by("18y"),
    )


def age_years(birth: pl.Expr, on: dt.date | pl.Expr) -> pl.Expr:
    """Whole years of age on a date, from the month of birth."""
    on_expr = pl.lit(on) if isinstance(on, dt.date) else on
    months = (on_expr.dt.year() - birth.dt.year()) * 12 + (on_expr.dt.month() - birth.dt.month())
    return (months // 12).cast(pl.Int32)


def open_children_now(cohort: Cohort, as_of: dt.date) -> pl.DataFrame:
    """Young people with a children's episode open on as_of."""
    return (
        cohort.episodes.filter(
            pl.col("service").is_in(CHILDREN)
            & (pl.col("started_on") <= as_of)
            & (pl.col("ended_on").is_null() | (pl.col("ended_on") > as_of))
        )
        .select("young_person_id")
        .unique()
    )


def turning_18_soon(cohort: Cohort, as_of: dt.date, months: int = 6) -> pl.DataFrame:
    """Open young people whose 18th birthday falls after as_of and within
    `months`, with whether a transition plan has been agreed."""
    open_ids = open_children_now(cohort, as_of)
    horizon = pl.lit(as_of).dt.offset_by(f"{months}mo")
    agreed = cohort.plans.filter(pl.col("agreed_on").is_not_null() & (pl.col("agreed_on") <= as_of))
    return (
        with_ages(cohort.young_people)
        .join(open_ids, left_on="id", right_on="young_person_id", how="semi")
        .filter((pl.col("b18") > as_of) & (pl.col("b18") <= horizon))
        .with_columns(plan_agreed=pl.col("id").is_in(agreed["young_person_id"].implode()))
    )


def transitions(cohort: Cohort, as_of: dt.date) -> pl.DataFrame:
    """One row per young person who has turned 18 by as_of: plan status,
    first adult service, gap in days, picked up within 3 / 6 months,
    intensive support before 18 and slipped through the net."""
    return cohort.derived(("transitions", as_of), lambda: _as_of(transitions_base(cohort), as_of))


def _as_of(base: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    """Who has turned 18 by as_of, and whether their 3- and 6-month windows have closed."""
    after = base.columns.index("picked_3m")  # the windows sit before what they bound
    return (
        base.filter(pl.col("b18") <= as_of)
        .with_columns(
            window_3m=pl.col("b18").dt.offset_by(PICKUP_WINDOW) <= as_of,
            window_6m=pl.col("b18").dt.offset_by(SLIPPED_WINDOW) <= as_of,
        )
        .select(*base.columns[:after], "window_3m", "window_6m", *base.columns[after:])
    )


def transitions_base(cohort: Cohort) -> pl.DataFrame:
    """transitions() for every young person, whatever their age and before
    the as-of date is known: all of it but who has turned 18 and whose
    windows have closed is the same whatever the date. Worked out once per
    cohort version by the writer (partnership/snapshot.py), not by the first
    viewer after an import."""
    return cohort.derived(("transitions_base",), lambda: _transitions_base(cohort))


def _transitions_base(cohort: Cohort) -> pl.DataFrame:
    yp = with_ages(cohort.young_people)
    eps = cohort.episodes.join(yp.select("id", "b18"), left_on="young_person_id", right_on="id")
    child = (
        eps.filter(pl.col("service").is_in(CHILDREN) & (pl.col("started_on") <= pl.col("b18")))
        .group_by("young_person_id")
        .agg(
            child_end=pl.col("ended_on").max(),
            # Started before the birthday, as the service at 17 is (flow.service_at_17): someone with intensive
            # support is always in one of the flow's intensive groups, which the board's audit relies on.
            intensive=(
                pl.col("service").is_in(list(INTENSIVE_SERVICES))
                & (pl.col("started_on") < pl.col("b18"))
                & (pl.col("ended_on").is_null() | (pl.col("ended_on") >= pl.col("b18").dt.offset_by("-1y")))
            ).any(),
        )
    )
    adult = (
        eps.filter(pl.col("service").is_in(ADULT) & (pl.col("started_on") >= pl.col("b18").dt.offset_by("-6mo")))
        .sort("started_on")
        .group_by("young_person_id")
        .agg(adult_start=pl.col("started_on").first(), adult_service=pl.col("service").first())
    )
    return (
        yp.join(child, left_on="id", right_on="young_person_id", how="left")
        .join(adult, left_on="id", right_on="young_person_id", how="left")
        .join(cohort.plans.select("young_person_id", "agreed_on"), left_on="id", right_on="young_person_id", how="left")
        .with_columns(
            intensive=pl.col("intensive").fill_null(False),
            plan=pl.when(pl.col("agreed_on") <= pl.col("b17_6"))
            .then(pl.lit("on time"))
            .when(pl.col("agreed_on").is_not_null())
            .then(pl.lit("late"))
            .otherwise(pl.lit("none")),
            gap_days=pl.max_horizontal((pl.col("adult_start") - pl.col("child_end")).dt.total_days(), pl.lit(0)),
            picked_3m=pl.col("adult_start").is_not_null()
            & (pl.col("adult_start") <= pl.col("b18").dt.offset_by(PICKUP_WINDOW)),
            picked_6m=pl.col("adult_start").is_not_null()
            & (pl.col("adult_start") <= pl.col("b18").dt.offset_by(SLIPPED_WINDOW)),
        )
        .with_columns(
            gap_days=pl.when(pl.col("child_end").is_null() | pl.col("adult_start").is_null())
            .then(None)
            .otherwise(pl.col("gap_days")),
            slipped=pl.col("intensive") & ~pl.col("picked_6m"),
        )
    )


def outcomes_at(cohort: Cohort, ages: tuple[int, int]) -> pl.DataFrame:
    """Observations made when the young person was within `ages`."""
    if ages != OUTCOME_AGES and OUTCOME_AGES[0] <= ages[0] <= ages[1] <= OUTCOME_AGES[1]:
        # A narrower band is a filter of the one every page asks for: not a second join of every record.
        return cohort.derived(
            ("outcomes_at", ages), lambda: outcomes_at(cohort, OUTCOME_AGES).filter(pl.col("age").is_between(*ages))
        )
    return cohort.derived(("outcomes_at", ages), lambda: _outcomes_at(cohort, ages))


OUTCOME_AGES = (17, 21)  # the ages any measure reads outcomes at


def _outcomes_at(cohort: Cohort, ages: tuple[int, int]) -> pl.DataFrame:
    return (
        cohort.outcomes.join(
            cohort.young_people.select("id", "birth_month", "send", "locality"),
            left_on="young_person_id",
            right_on="id",
        )
        .with_columns(age=age_years(pl.col("birth_month"), pl.col("observed_on")))
        .filter(pl.col("age").is_between(*ages))
        .with_columns(
            neet=pl.col("activity").is_in(list(ACTIV_NEET)).fill_null(False),
            eet=pl.col("activity").is_in(list(ACTIV_EET)).fill_null(False),
            homeless=pl.col("accommodation").is_in(list(ACCOM_HOMELESS)).fill_null(False),
            crisis=pl.col("ae_attendances") + pl.col("police_custody") + pl.col("emergency_housing"),
        )
    )


def default_period(as_of: dt.date) -> str:
    """The last full calendar year: young people whose 18th birthday fell in it
    have mostly reached 19, so the flow's last stage shows how they fare."""
    return str(as_of.year - 1)


def period_options(as_of: dt.date, rolling: bool = True) -> dict[str, str]:
    """The periods the filter bar, stories and the board pack offer: the four
    most recent calendar years, and the last 12 months unless `rolling` is off.
    Board-level views have calendar years only: two periods that overlap
    (the last 12 months and this year so far) would give the months between
    them away by subtraction."""
    options = {str(as_of.year): f"{as_of.year} (so far)"}
    for year in range(as_of.year - 1, as_of.year - 4, -1):
        options[str(year)] = str(year)
    if rolling:
        options["12m"] = "Last 12 months"
    return options


def period_bounds(period: str, as_of: dt.date) -> tuple[dt.date, dt.date]:
    """'12m' = the 12 months to as_of; 'YYYY' = that calendar year (to as_of)."""
    if period.isdigit() and len(period) == 4:
        year = int(period)
        return dt.date(year, 1, 1), min(dt.date(year, 12, 31), as_of)
    start = dt.date(as_of.year - 1, as_of.month, 1)
    return start, as_of


# --- quarterly series for the computed programme indicators -------------------


def _pairs(cohort: Cohort) -> pl.DataFrame:
    """Consecutive post-16 observations of young people with SEND."""
    send_ids = cohort.young_people.filter(pl.col("send") != "none").select("id")
    obs = (
        outcomes_at(cohort, (17, 21))
        .join(send_ids, left_on="young_person_id", right_on="id", how="semi")
        .filter(pl.col("eet") | pl.col("neet"))
        .sort("young_person_id", "observed_on")
        .with_columns(
            prev_eet=pl.col("eet").shift(1).over("young_person_id"),
            prev_neet=pl.col("neet").shift(1).over("young_person_id"),
        )
        .filter(pl.col("prev_eet").is_not_null())
    )
    return obs
