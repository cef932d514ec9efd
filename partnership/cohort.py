"""The case list for managers and the lead: who turns 18 soon, by
pseudonymised key. Case-level, so never shown at board level (counts of
young people come from partnership.figures, through disclosure control)."""

from __future__ import annotations

import datetime as dt

import polars as pl

from models.codes import RISK_LEVELS, SERVICES
from partnership import metrics
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
    plans = cohort.plans.select("young_person_id", "started_on", "agreed_on")
    out = (
        soon.join(current_service(cohort, as_of), left_on="id", right_on="young_person_id", how="left")
        .join(plans, left_on="id", right_on="young_person_id", how="left")
        .join(latest_risk(cohort), left_on="id", right_on="young_person_id", how="left")
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
