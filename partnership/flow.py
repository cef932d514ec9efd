"""The flow across 18: one label per young person per stage, links between
adjacent stages, and the ribbon geometry Altair draws (it has no Sankey mark).

Every young person has exactly one node in every stage, so node totals are
conserved stage to stage. What a viewer under disclosure control may see is
decided in partnership.disclosure (see figures.flow_release): groups are
drawn at their released size and bands left out leave part of a group
unfilled, so the picture agrees with the headline figures.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from models.codes import ACCOM_HOMELESS, ACTIV_EET, ACTIV_NEET, ADULT_SERVICES, CHILDREN_SERVICES
from partnership import metrics
from partnership.queries import Cohort

STAGES = ["service_17", "plan", "adult_3m", "outcome"]
STAGE_TITLES = {
    "service_17": "Service at 17",
    "plan": "Plan by 17½",
    "adult_3m": "Adult service by 18 + 3 months",
    "outcome": "Latest at 19-21",
}
OTHER = "Other / suppressed"
PLAN_LABELS = {"on time": "Agreed on time", "late": "Agreed late", "none": "No plan"}
OUTCOME_ORDER = [
    "In education, employment or training",
    "NEET",
    "Homeless or unsuitable accommodation",
    "Custody",
    "Lost contact or not known",
    "Not yet 19",
]
NODE_ORDER: dict[str, list[str]] = {
    "service_17": list(CHILDREN_SERVICES.values()),
    "plan": list(PLAN_LABELS.values()),
    "adult_3m": [*ADULT_SERVICES.values(), "No adult service"],
    "outcome": OUTCOME_ORDER,
}


def service_at_17(cohort: Cohort) -> pl.DataFrame:
    """Each young person's most intensive children's service open at any
    point in the year from 17 to 18 (once per cohort version: see metrics.transitions_base)."""
    return cohort.derived(("service_at_17",), lambda: _service_at_17(cohort, metrics.transitions_base(cohort)))


def latest_outcome(cohort: Cohort) -> pl.DataFrame:
    """Each young person's latest outcome at 19-21 (once per cohort version)."""
    return cohort.derived(("latest_outcome",), lambda: _latest_outcome(cohort))


def _service_at_17(cohort: Cohort, trans: pl.DataFrame) -> pl.DataFrame:
    """Most intensive children's service open at any point in the year from 17 to 18."""
    rank = {code: i for i, code in enumerate(CHILDREN_SERVICES)}
    eps = cohort.episodes.join(trans.select("id", "b18"), left_on="young_person_id", right_on="id").filter(
        pl.col("service").is_in(list(CHILDREN_SERVICES))
        & (pl.col("started_on") < pl.col("b18"))
        & (pl.col("ended_on").is_null() | (pl.col("ended_on") >= pl.col("b18").dt.offset_by("-1y")))
    )
    return (
        eps.with_columns(rank=pl.col("service").replace_strict(rank, return_dtype=pl.Int32))
        .sort("rank")
        .group_by("young_person_id")
        .agg(service=pl.col("service").first())
        .with_columns(service_17=pl.col("service").replace_strict(CHILDREN_SERVICES))
        .select("young_person_id", "service_17")
    )


def _latest_outcome(cohort: Cohort) -> pl.DataFrame:
    obs = metrics.outcomes_at(cohort, (19, 21)).sort("observed_on").group_by("young_person_id").last()
    custody = pl.col("accommodation").str.starts_with("X").fill_null(False)
    unsuitable = pl.col("accommodation").str.ends_with("2").fill_null(False) | pl.col("accommodation").is_in(
        list(ACCOM_HOMELESS)
    ).fill_null(False)
    return obs.select(
        "young_person_id",
        outcome=pl.when(custody)
        .then(pl.lit("Custody"))
        .when(unsuitable)
        .then(pl.lit("Homeless or unsuitable accommodation"))
        .when(pl.col("activity").is_in(list(ACTIV_NEET)).fill_null(False))
        .then(pl.lit("NEET"))
        .when(pl.col("activity").is_in(list(ACTIV_EET)).fill_null(False))
        .then(pl.lit("In education, employment or training"))
        .otherwise(pl.lit("Lost contact or not known")),
    )


def transition_people(cohort: Cohort, as_of: dt.date) -> pl.DataFrame:
    """Everyone six months past their 18th birthday, whatever the period: their
    stage labels beside what transitions() knows of them. One population for
    every figure about crossing 18 (the flow, the gap, who was picked up and
    who slipped through the net): with a 3-month window here and a 6-month one
    for slipped, the months between the two were a difference of published
    figures, and a small one."""
    trans = metrics.transitions(cohort, as_of).filter(pl.col("window_6m"))
    return _stages(cohort, trans, as_of)


def _stages(cohort: Cohort, trans: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    first_adult = (
        pl.when(pl.col("picked_3m"))
        .then(pl.col("adult_service").replace_strict(ADULT_SERVICES, default="No adult service"))
        .otherwise(pl.lit("No adult service"))
    )
    return (
        trans.join(service_at_17(cohort), left_on="id", right_on="young_person_id", how="left")
        .join(latest_outcome(cohort), left_on="id", right_on="young_person_id", how="left")
        .with_columns(
            service_17=pl.col("service_17").fill_null("No children's service at 17"),
            plan=pl.col("plan").replace_strict(PLAN_LABELS),
            adult_3m=first_adult,
            age_now=metrics.age_years(pl.col("birth_month"), as_of),
        )
        .with_columns(
            outcome=pl.when(pl.col("outcome").is_not_null())
            .then(pl.col("outcome"))
            .when(pl.col("age_now") < 19)
            .then(pl.lit("Not yet 19"))
            .otherwise(pl.lit("Lost contact or not known"))
        )
    )


def _node_order(stage: str, names: list[str]) -> list[str]:
    known = [n for n in NODE_ORDER[stage] if n in names]
    return known + sorted(n for n in names if n not in known and n != OTHER) + ([OTHER] if OTHER in names else [])


def layout_released(
    nodes: dict[tuple[str, str], int],
    links: list[tuple[int, str, str, int]],
    total: int,
    gap: float = 0.02,
    samples: int = 24,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Node rectangles and ribbons from released figures: each group drawn at
    its released size (a hidden group is not drawn), each shown band stacked
    inside the groups it joins. Bands left out for disclosure leave part of a
    group unfilled rather than change its size, so the picture keeps the
    headline numbers. nodes: (stage, name) -> young people; links: (stage
    index, source, target, young people); total: everyone in the flow."""
    n_stages = len(STAGES)
    per_stage = [[n for (stage, n) in nodes if stage == s] for s in STAGES]
    scale = 1.0 - gap * max(max((len(p) for p in per_stage), default=1) - 1, 0)
    width = 0.014
    node_rows = []
    for s, stage in enumerate(STAGES):
        y = 0.0
        x0 = s / (n_stages - 1) * (0.7 - width)
        for name in _node_order(stage, per_stage[s]):
            h = scale * nodes[(stage, name)] / total
            node_rows.append(
                {
                    "stage": STAGE_TITLES[stage],
                    "stage_index": s,
                    "name": name,
                    "value": int(nodes[(stage, name)]),
                    "share": nodes[(stage, name)] / total,
                    "x0": x0,
                    "x1": x0 + width,
                    "y0": y,
                    "y1": y + h,
                }
            )
            y += h + gap
    pos = {(r["stage_index"], r["name"]): r for r in node_rows}
    out_y = {k: r["y0"] for k, r in pos.items()}
    in_y = dict(out_y)
    order = {(r["stage_index"], r["name"]): i for i, r in enumerate(node_rows)}
    drawable = [lk for lk in links if (lk[0], lk[1]) in pos and (lk[0] + 1, lk[2]) in pos]
    drawable.sort(key=lambda lk: (lk[0], order[(lk[0], lk[1])], order[(lk[0] + 1, lk[2])]))
    ribbons = []
    for k, (s, src_name, tgt_name, value) in enumerate(drawable):
        src, tgt = pos[(s, src_name)], pos[(s + 1, tgt_name)]
        h = scale * value / total
        sy, ty = out_y[(s, src_name)], in_y[(s + 1, tgt_name)]
        out_y[(s, src_name)] += h
        in_y[(s + 1, tgt_name)] += h
        xa, xb = src["x1"], tgt["x0"]
        for i in range(samples + 1):
            t = i / samples
            ease = t * t * (3 - 2 * t)
            ribbons.append(
                {
                    "link": k,
                    "source": src_name,
                    "target": tgt_name,
                    "value": value,
                    "share": value / total,
                    "x": xa + (xb - xa) * t,
                    "y0": sy + (ty - sy) * ease,
                    "y1": sy + h + (ty - sy) * ease,
                }
            )
    ribbon_schema = {
        "link": pl.Int64,
        "source": pl.String,
        "target": pl.String,
        "value": pl.Int64,
        "share": pl.Float64,
        "x": pl.Float64,
        "y0": pl.Float64,
        "y1": pl.Float64,
    }
    return pl.DataFrame(node_rows), pl.DataFrame(ribbons, schema=ribbon_schema)
