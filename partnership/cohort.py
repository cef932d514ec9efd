"""The case list for managers and the lead: who turns 18 soon, by
pseudonymised key. Case-level, so never shown at board level (counts of
young people come from partnership.figures, through disclosure control)."""

from __future__ import annotations

import datetime as dt

import polars as pl

from models.codes import RISK_LEVELS, SERVICES
from partnership import figures, metrics
from partnership.pseudonymise import SHORT_KEY_LENGTH
from partnership.queries import Cohort


def current_service(cohort: Cohort, as_of: dt.date) -> pl.DataFrame:
    rank = {code: i for i, code in enumerate(SERVICES)}
    return (
        cohort.episodes.filter(
            (pl.col("started_on") <= as_of) & (pl.col("ended_on").is_null() | (pl.col("ended_on") > as_of))
        )
        .with_columns(rank=pl.col("service").replace_strict(rank, return_dtype=pl.Int32))
        .sort("rank")
        .group_by("young_person_id")
        .agg(service=pl.col("service").first())
    )


def latest_risk(cohort: Cohort) -> pl.DataFrame:
    """Highest level given on the latest assessment date."""
    order = {code: i for i, code in enumerate(RISK_LEVELS)}
    latest = cohort.risks.group_by("young_person_id").agg(last=pl.col("assessed_on").max())
    return (
        cohort.risks.join(latest, on="young_person_id")
        .filter(pl.col("assessed_on") == pl.col("last"))
        .with_columns(rank=pl.col("level").replace_strict(order, return_dtype=pl.Int32))
        .sort("rank", descending=True)
        .group_by("young_person_id")
        .agg(level=pl.col("level").first(), assessed=pl.col("last").first())
    )


def turning_18_list(cohort: Cohort, as_of: dt.date, months: int = 12) -> pl.DataFrame:
    """Case list for managers and the lead: pseudonymised key only."""
    soon = metrics.turning_18_soon(cohort, as_of, months)

    def theirs(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.join(soon.select("id"), left_on="young_person_id", right_on="id", how="semi")

    # Services and risk levels of the few on the list, not of everyone (2.2 million assessments at a million).
    few = Cohort(soon, theirs(cohort.episodes), theirs(cohort.plans), theirs(cohort.risks), cohort.outcomes)
    plans = few.plans.select("young_person_id", "started_on", "agreed_on")
    out = (
        soon.join(current_service(few, as_of), left_on="id", right_on="young_person_id", how="left")
        .join(plans, left_on="id", right_on="young_person_id", how="left")
        .join(latest_risk(few), left_on="id", right_on="young_person_id", how="left")
        .with_columns(
            months=(as_of.year - pl.col("birth_month").dt.year()) * 12 + as_of.month - pl.col("birth_month").dt.month()
        )
        # In order of the 18th birthday: the month is shown in words, which would sort alphabetically.
        .sort("b18", "pseudo_key")
        .select(
            pl.col("pseudo_key").str.slice(0, SHORT_KEY_LENGTH).alias("Young person (key)"),
            pl.col("locality").alias("Locality"),
            pl.format("{}y {}m", pl.col("months") // 12, pl.col("months") % 12).alias("Age"),
            pl.col("b18").dt.strftime("%B %Y").alias("Turns 18"),
            pl.col("service").replace_strict(SERVICES, default="None open").alias("Current service"),
            pl.when(pl.col("agreed_on").is_not_null() & (pl.col("agreed_on") <= as_of))
            .then(pl.lit("Agreed"))
            .when(pl.col("started_on").is_not_null() & (pl.col("started_on") <= as_of))
            .then(pl.lit("Started"))
            .otherwise(pl.lit("None"))
            .alias("Transition plan"),
            pl.col("level").replace_strict(RISK_LEVELS, default="Not assessed").alias("Latest risk level"),
        )
    )
    return out


def slipped_list(cohort: Cohort, as_of: dt.date, period: str) -> pl.DataFrame:
    """Case list for managers and the lead: the young people counted as
    slipped through the net in the period (intensive support before 18, no
    adult service within 6 months of the 18th birthday, window closed), by
    pseudonymised key, with the service they left and how long ago."""
    first, last = figures.period_months(period, as_of)
    trans = figures.slipped_population(metrics.transitions(cohort, as_of)).filter(
        pl.col("slipped") & pl.col("b18").dt.truncate("1mo").is_between(first, last)
    )
    # The children's service they left: the one open latest before 18.
    left = (
        cohort.episodes.join(trans.select("id", "b18"), left_on="young_person_id", right_on="id")
        .filter(pl.col("service").is_in(metrics.CHILDREN) & (pl.col("started_on") <= pl.col("b18")))
        .sort(pl.col("ended_on").fill_null(as_of), "started_on")
        .group_by("young_person_id")
        .agg(service=pl.col("service").last(), ended_on=pl.col("ended_on").last())
    )
    return (
        trans.join(left, left_on="id", right_on="young_person_id", how="left")
        .with_columns(days=(pl.lit(as_of) - pl.col("ended_on")).dt.total_days())
        .sort("days", "pseudo_key", descending=[True, False], nulls_last=True)
        .select(
            pl.col("pseudo_key").str.slice(0, SHORT_KEY_LENGTH).alias("Young person (key)"),
            pl.col("locality").alias("Locality"),
            pl.col("b18").dt.strftime("%B %Y").alias("Turned 18"),
            pl.col("service").replace_strict(SERVICES, default="Not known").alias("Service left"),
            pl.col("ended_on").dt.strftime("%-d %B %Y").fill_null("Still open").alias("Left on"),
            pl.col("days").alias("Days since"),
            pl.col("adult_service")
            .replace_strict(SERVICES, default="None")
            .fill_null("None")
            .alias("Adult service since (after 6 months)"),
        )
    )
