"""Joint releases for the board: every figure the board is shown from one
population in one period, released (and audited) together over one table of
cells.

Why: audited one release at a time, figures from linked populations gave
hidden counts away between them. The flow's groups, who slipped through the
net, Theme 1's quarterly "picked up within 3 months" and the breakdown of who
slipped by characteristic all count the young people who turned 18 in a year;
audited apart, a reader combined them and pinned a hidden group exactly. Here
each population's figures are one release.

The audit's atoms are **cells**: every combination of the population's
attributes that a reader cannot rule out from the definitions, empty ones
as 0, and never a combination the definitions rule out (someone picked up
within 3 months of 18 cannot have slipped through the net). A cell the audit
allowed but the definitions do not would be room a reader does not have.

Where the figures shown never cross two groups of attributes (the gap's
bands never meet the flow's groups; a breakdown by sex never meets one by
ethnic group), the cells come in **parts** that count the same people and
share only what links them, and the audit holds the linking totals equal
(Release.same). A reader can work out nothing more from the whole table than
from the parts so linked (the parts form a tree joined by those totals: a
decomposable model, in which any tables that agree on the totals they share
come from one table of people), so the audit stays exact with a few thousand
cells rather than millions.

Keys are those of partnership.figures, so every section reads a joint
release as it reads the releases it replaces.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import polars as pl

from models.codes import CHILDREN_SERVICES, INTENSIVE_SERVICES, RISK_AGENCIES, RISK_LEVELS
from partnership import flow
from partnership.disclosure import Count, Median, Prior, Rate, Release, Released, Share, disclose, withhold_all
from partnership.figures import (
    AGES,
    ALL,
    CHARACTERISTICS,
    GAP_BANDS,
    NO_GAP_MEASURED,
    RISK_PAIRS,
    ROUTE_GROUPS,
    TURNING_BANDS,
    WEIGHT,
    Figures,
    _locality_lines,
    _representation,
    closed_quarters,
    ended_quarters,
    key,
    open_now_people,
    outcome_people,
    period_months,
    quarter_label,
    risk_people,
)
from partnership.metrics import period_options

PART = "part"
INTENSIVE_LABELS = [CHILDREN_SERVICES[c] for c in INTENSIVE_SERVICES]
NO_ADULT = "No adult service"


@dataclass(frozen=True)
class Part:
    """One part of a population's cells: the attributes (`domains`, each with
    every value a reader allows) of the figures it publishes, the young
    people (one row each, or weighed), and what the definitions rule out
    (`valid`, over the attributes). `derived` attributes are worked out from
    the others, the same way for a cell and for a young person."""

    name: str
    people: pl.DataFrame
    domains: dict[str, Sequence[object]]
    valid: pl.Expr | None = None
    derived: dict[str, pl.Expr] = field(default_factory=dict)


def cells(parts: Sequence[Part]) -> pl.DataFrame:
    """Every cell of every part with how many young people are in it (n),
    and the part's name; attributes of other parts are null."""
    frames = []
    for part in parts:
        dims = list(part.domains)
        grid: pl.DataFrame | None = None
        for dim in dims:
            column = pl.DataFrame({dim: pl.Series(dim, list(part.domains[dim]), dtype=part.people.schema[dim])})
            grid = column if grid is None else grid.join(column, how="cross")
        assert grid is not None
        if part.valid is not None:
            grid = grid.filter(part.valid)
        headcount = pl.col(WEIGHT).sum() if WEIGHT in part.people.columns else pl.len()
        counted = part.people.group_by(dims).agg(headcount.cast(pl.Int64).alias("n"))
        outside = counted.join(grid, on=dims, how="anti", nulls_equal=True)
        if outside.height:
            # The definitions say a reader can rule these out; the data says otherwise. A rule
            # that is not true of the data would let the audit pass what a reader could pin.
            raise ValueError(f"young people in cells the definitions rule out ({part.name}): {outside.head(3).rows()}")
        frame = grid.join(counted, on=dims, how="left", nulls_equal=True).with_columns(pl.col("n").fill_null(0))
        if part.derived:
            frame = frame.with_columns(**part.derived)
        frames.append(frame.with_columns(pl.lit(part.name).alias(PART)))
    return pl.concat(frames, how="diagonal_relaxed")


def people_of(parts: Sequence[Part]) -> dict[str, pl.DataFrame]:
    """Each part's young people as the audit sees them: their `id` and the
    part's attributes (derived ones worked out), for the next publication's
    comparison with this one."""
    out = {}
    for part in parts:
        frame = part.people.select("id", *part.domains)
        out[part.name] = frame.with_columns(**part.derived) if part.derived else frame
    return out


def _release(name: str, parts: Sequence[Part]) -> Release:
    return Release(name, cells(parts), explicit=True, people=people_of(parts))


def _domain(people: pl.DataFrame, column: str, always: Sequence[object] = ()) -> list[object]:
    """The values of an attribute a reader is shown: those the population has
    (a group with nobody in it is not listed, so a reader reads it as 0)."""
    seen = people[column].unique().to_list() if people.height else []
    return sorted({*seen, *always}, key=lambda v: (v is None, str(v)))


def _link(release: Release, name: str, a: dict[str, object], b: dict[str, object]) -> None:
    """Two parts count the same people: their totals over `a` and `b` are equal."""
    ka, kb = f"{name}|a", f"{name}|b"
    release.add(Count(ka, a, published=False), Count(kb, b, published=False))
    release.same(ka, kb)


# --- crossing 18: the flow, the gap, slipped through the net, picked up ----------------


def _not_yet_19(as_of: dt.date, quarters: list[dt.date], months: list[dt.date]) -> tuple[set, set]:
    """Quarters in which everyone counted is still under 19 on the figures'
    date, and those in which nobody is (flow.transition_people: not yet 19
    until the month of the 19th birthday)."""
    young: dict[dt.date, set[bool]] = {}
    for month in months:
        q = month.replace(month=(month.month - 1) // 3 * 3 + 1)
        months_since_18 = (as_of.year - month.year) * 12 + as_of.month - month.month
        young.setdefault(q, set()).add(months_since_18 < 12)
    under = {q for q in quarters if young.get(q) == {True}}
    over = {q for q in quarters if young.get(q) == {False}}
    return under, over


def transitions_release(
    people: pl.DataFrame, year: int, as_of: dt.date, localities: list[str], breakdowns: list[str]
) -> Release:
    """Everything the board is shown of the young people whose 18th birthday
    fell in `year`, six months on: the flow across 18, the gap, slipped
    through the net (by quarter for the slices in `breakdowns`), who slipped
    by characteristic, and Theme 1's "picked up within 3 months" by quarter.

    `people`: one row per young person of flow.transition_people in the
    year (weighed or not), with month, locality, the flow's stages, gap band
    and days, slipped, and sex, ethnicity, send and care status."""
    p = str(year)
    slices = [ALL, *localities] if len(localities) > 1 else [*localities, ALL]
    mine = people.with_columns(quarter=pl.col("month").dt.truncate("1q"))
    quarters = sorted(mine["quarter"].unique().to_list())
    under, over = _not_yet_19(as_of, quarters, sorted(mine["month"].unique().to_list()))
    # A record dated after the figures' date (a late correction) would break the rule: where the
    # data do not bear it out, no reader can rely on it either, and the cells allow both.
    said = mine.group_by("quarter").agg(
        (pl.col("outcome") == "Not yet 19").all().alias("all"), (pl.col("outcome") != "Not yet 19").all().alias("none")
    )
    under = {q for q in under if said.filter((pl.col("quarter") == q) & pl.col("all")).height}
    over = {q for q in over if said.filter((pl.col("quarter") == q) & pl.col("none")).height}
    stage_domains = {s: _domain(mine, s, [NO_ADULT] if s == "adult_3m" else ()) for s in flow.STAGES}
    valid = ~pl.col("slipped") | (pl.col("service_17").is_in(INTENSIVE_LABELS) & (pl.col("adult_3m") == NO_ADULT))
    outcome_valid = pl.lit(True)
    if under:
        outcome_valid = outcome_valid & (~pl.col("quarter").is_in(list(under)) | (pl.col("outcome") == "Not yet 19"))
    if over:
        outcome_valid = outcome_valid & (~pl.col("quarter").is_in(list(over)) | (pl.col("outcome") != "Not yet 19"))
    # The flow's last stage meets the others only through the adult service (and the
    # quarter, which says who can be 19 yet): a part of its own, linked by those.
    flow_part = Part(
        "flow",
        mine,
        {
            "locality": localities,
            "quarter": quarters,
            **{s: stage_domains[s] for s in flow.STAGES[:3]},
            "slipped": [False, True],
        },
        valid,
    )
    outcome_part = Part(
        "outcome",
        mine,
        {
            "locality": localities,
            "quarter": quarters,
            "adult_3m": stage_domains["adult_3m"],
            "outcome": stage_domains["outcome"],
        },
        outcome_valid,
    )
    gap_part = Part("gap", mine, {"locality": localities, "gap_band": [*(b for b, _, _ in GAP_BANDS), NO_GAP_MEASURED]})
    intensive = mine.filter(pl.col("service_17").is_in(INTENSIVE_LABELS))
    reps = {
        title: Part(
            f"rep_{col}",
            intensive,
            {"locality": localities, "slipped": [False, True], col: list(labels)},
        )
        for title, (col, labels) in CHARACTERISTICS.items()
    }
    release = _release(key("transitions", year), [flow_part, outcome_part, gap_part, *reps.values()])
    in_flow, in_gap, in_outcome = {PART: "flow"}, {PART: "gap"}, {PART: "outcome"}
    adult = [v for v in stage_domains["adult_3m"] if v != NO_ADULT]
    nodes = {s: [v for v in stage_domains[s] if mine[s].is_in([v]).any()] for s in flow.STAGES}
    if NO_ADULT not in nodes["adult_3m"]:
        nodes["adult_3m"].append(NO_ADULT)
    pairs = {
        i: mine.select(a, b).unique().sort(a, b).rows() for i, (a, b) in enumerate(itertools.pairwise(flow.STAGES))
    }
    closed = [q for q in closed_quarters(year, as_of) if q in quarters]
    for s in slices:
        loc = {} if s == ALL else {"locality": s}
        w, wg, wo = in_flow | loc, in_gap | loc, in_outcome | loc
        total = key("turned_18", p, s)
        release.add(Count(total, w, headline=True))
        for stage, values in nodes.items():
            where = wo if stage == "outcome" else w
            release.add(*(Count(key("flow", p, s, "node", stage, v), where | {stage: v}) for v in values))
            release.line(total, [key("flow", p, s, "node", stage, v) for v in values])
        for i, rows in pairs.items():
            a, b = flow.STAGES[i], flow.STAGES[i + 1]
            where = wo if b == "outcome" else w
            release.add(
                *(
                    Count(key("flow", p, s, "link", i, x, y), where | {a: x, b: y}, unlisted_when_small=True)
                    for x, y in rows
                )
            )
            for x in nodes[a]:
                release.line(
                    key("flow", p, s, "node", a, x), [key("flow", p, s, "link", i, x, y) for xx, y in rows if xx == x]
                )
            for y in nodes[b]:
                release.line(
                    key("flow", p, s, "node", b, y), [key("flow", p, s, "link", i, x, y) for x, yy in rows if yy == y]
                )
        picked = key("adult_service_3m", p, s, "k")
        release.add(
            Count(picked, w | {"adult_3m": adult}, published=False),
            Share(key("adult_service_3m", p, s), picked, total, digits=0),
            Share(key("no_adult_service_3m", p, s), key("flow", p, s, "node", "adult_3m", NO_ADULT), total, digits=0),
        )
        # The gap.
        measured = [b for b, _, _ in GAP_BANDS]
        gap_n = key("gap_days", p, s, "n")
        if s in breakdowns:
            release.add(*(Count(key("gap_days", p, s, "band", b), wg | {"gap_band": b}) for b in measured))
            release.line(gap_n, [key("gap_days", p, s, "band", b) for b in measured])
        release.add(
            Count(gap_n, wg | {"gap_band": measured}, headline=True),
            Count(key("gap_over_28", p, s, "k"), wg | {"gap_band": measured[2:]}, published=False),
            Count(key("gap_over_90", p, s, "k"), wg | {"gap_band": measured[3:]}, published=False),
            Share(key("gap_over_28", p, s), key("gap_over_28", p, s, "k"), gap_n, digits=0),
            Share(key("gap_over_90", p, s), key("gap_over_90", p, s, "k"), gap_n, digits=0),
        )
        gaps = mine.filter(pl.col("gap_band") != NO_GAP_MEASURED)
        if s != ALL:
            gaps = gaps.filter(pl.col("locality") == s)
        median = float(gaps["gap_days"].median()) if gaps.height else None  # type: ignore[arg-type]
        release.add(Median(key("gap_days", p, s, "median"), median, gap_n))
        # Slipped through the net and, by quarter, picked up within 3 months: the same people.
        n, k = key("slipped", p, s, "n"), key("slipped", p, s, "k")
        wi = w | {"service_17": INTENSIVE_LABELS}
        release.add(Count(n, wi, headline=True), Count(k, w | {"slipped": True}, headline=True))
        release.add(Share(key("slipped", p, s), k, n, digits=0))
        for q in closed:
            ql = quarter_label(q)
            pn, pk = key("post18_pickup_3m", ql, s, "n"), key("post18_pickup_3m", ql, s, "k")
            release.add(
                Count(pn, wi | {"quarter": q}, published=False),
                Count(pk, wi | {"quarter": q, "adult_3m": adult}, published=False),
                Share(key("post18_pickup_3m", ql, s), pk, pn),
            )
        if s in breakdowns:
            for q in closed:
                ql = quarter_label(q)
                qn, qk = key("slipped_through", ql, s, "n"), key("slipped_through", ql, s, "k")
                release.add(
                    Count(qn, wi | {"quarter": q}),
                    Count(qk, w | {"quarter": q, "slipped": True}),
                    Share(key("slipped_through", ql, s), qk, qn),
                )
            if closed and len(closed) == len(quarters):
                for part in ("n", "k"):
                    release.line(
                        key("slipped", p, s, part), [key("slipped_through", quarter_label(q), s, part) for q in closed]
                    )
            for title, rep in reps.items():
                atoms = release.atoms.filter(pl.col(PART) == rep.name)
                where = {PART: rep.name} | ({} if s == ALL else {"locality": s})
                _representation(release, "representation_slipped", p, s, "slipped", True, title, where, k, n, atoms)
    # Every part counts the same people: linked by locality (the gap), and by
    # locality and whether they slipped (each breakdown of those with intensive support).
    for loc in localities:
        _link(release, key("link", year, loc, "gap"), {PART: "flow", "locality": loc}, {PART: "gap", "locality": loc})
        for q in quarters:
            for v in stage_domains["adult_3m"]:
                place = {"locality": loc, "quarter": q, "adult_3m": v}
                _link(release, key("link", year, loc, q, v), {PART: "flow"} | place, {PART: "outcome"} | place)
        for rep in reps.values():
            for slipped in (False, True):
                _link(
                    release,
                    key("link", year, loc, rep.name, slipped),
                    {PART: "flow", "locality": loc, "service_17": INTENSIVE_LABELS, "slipped": slipped},
                    {PART: rep.name, "locality": loc, "slipped": slipped},
                )
    _locality_lines(release, slices)
    return release


def transitions_series_release(
    people: pl.DataFrame, year: int, as_of: dt.date, localities: list[str], breakdowns: list[str]
) -> Release:
    """The quarterly figures about crossing 18 of a year the board cannot
    choose as a period (its flow, gap and breakdowns are not shown): Theme
    1's "picked up within 3 months" and slipped through the net, by quarter,
    over cells of intensive support, picked up and slipped."""
    slices = [ALL, *localities] if len(localities) > 1 else [*localities, ALL]
    mine = people.with_columns(
        quarter=pl.col("month").dt.truncate("1q"),
        intensive=pl.col("service_17").is_in(INTENSIVE_LABELS),
        picked=pl.col("adult_3m") != NO_ADULT,
    )
    quarters = sorted(mine["quarter"].unique().to_list())
    part = Part(
        "series",
        mine,
        {
            "locality": localities,
            "quarter": quarters,
            "intensive": [False, True],
            "picked": [False, True],
            "slipped": [False, True],
        },
        ~pl.col("slipped") | (pl.col("intensive") & ~pl.col("picked")),
    )
    release = _release(key("transitions", year), [part])
    for s in slices:
        w = {PART: "series", "intensive": True} | ({} if s == ALL else {"locality": s})
        for q in [q for q in closed_quarters(year, as_of) if q in quarters]:
            ql = quarter_label(q)
            pn, pk = key("post18_pickup_3m", ql, s, "n"), key("post18_pickup_3m", ql, s, "k")
            release.add(
                Count(pn, w | {"quarter": q}, published=False),
                Count(pk, w | {"quarter": q, "picked": True}, published=False),
                Share(key("post18_pickup_3m", ql, s), pk, pn),
            )
            if s in breakdowns:
                qn, qk = key("slipped_through", ql, s, "n"), key("slipped_through", ql, s, "k")
                release.add(
                    Count(qn, w | {"quarter": q}),
                    Count(qk, w | {"quarter": q, "slipped": True}),
                    Share(key("slipped_through", ql, s), qk, qn),
                )
    _locality_lines(release, slices)
    return release


# --- open now and everyone now ----------------------------------------------------------------

NOT_OPEN = -1  # age of a young person who is not open to a service aged 14-25 now


def now_release(
    open_people: pl.DataFrame, everyone: pl.DataFrame, localities: list[str], breakdowns: list[str]
) -> Release:
    """Open now by age and turning 18 soon, and who is flagged at risk of
    exploitation by characteristic: both count young people in the data now.

    `open_people`: open_now_people rows (locality, age, open_children,
    band18, plan_agreed) with the young person's `id`; `everyone`: every
    young person (id, locality, exploited, sex, ethnicity, send, care_status)."""
    slices = [ALL, *localities] if len(localities) > 1 else [*localities, ALL]
    opened = everyone.select("id", "locality").join(
        open_people.select("id", "age", "open_children", "band18", "plan_agreed"), on="id", how="left"
    )
    opened = opened.with_columns(
        age=pl.col("age").fill_null(NOT_OPEN),
        open_children=pl.col("open_children").fill_null(False),
        # Whether a plan is agreed is published only for those turning 18 soon.
        plan_agreed=pl.col("plan_agreed").fill_null(False) & pl.col("band18").is_not_null(),
    )
    bands = [None, "0-3", "4-6", "7-12"]
    # The months to 18 of someone open to children's services are in a band exactly when they are 17
    # (partnership.figures.open_now_people); nobody not open now is open to children's services.
    valid = (
        (((pl.col("age") == 17) & pl.col("open_children")) == pl.col("band18").is_not_null())
        & ((pl.col("age") != NOT_OPEN) | ~pl.col("open_children"))
        & (pl.col("band18").is_not_null() | ~pl.col("plan_agreed"))
    )
    open_part = Part(
        "open",
        opened,
        {
            "locality": localities,
            "age": [NOT_OPEN, *AGES],
            "open_children": [False, True],
            "band18": bands,
            "plan_agreed": [False, True],
        },
        valid,
    )
    reps = {
        title: Part(f"rep_{col}", everyone, {"locality": localities, "exploited": [False, True], col: list(labels)})
        for title, (col, labels) in CHARACTERISTICS.items()
    }
    release = _release("now", [open_part, *reps.values()])
    first_rep = next(iter(reps.values())).name
    for s in slices:
        loc = {} if s == ALL else {"locality": s}
        w = {PART: "open"} | loc
        release.add(*(Count(key("open_by_age", "now", s, age), w | {"age": age}) for age in AGES))
        release.add(Count(key("open_by_age", "now", s, "total"), w | {"age": AGES}, headline=True))
        release.add(Count(key("open_16_17", "now", s), w | {"age": [16, 17], "open_children": True}, headline=True))
        for months, wanted in TURNING_BANDS.items():
            release.add(Count(key("turning_18", "now", s, months), w | {"band18": list(wanted)}, headline=True))
            if months != "3":
                release.add(
                    Count(
                        key("turning_18_no_plan", "now", s, months), w | {"band18": list(wanted), "plan_agreed": False}
                    )
                )
        release.line(key("open_by_age", "now", s, "total"), [key("open_by_age", "now", s, age) for age in AGES])
        k, n = key("representation_exploited", "now", s, "k"), key("representation_exploited", "now", s, "n")
        wr = {PART: first_rep} | loc
        release.add(Count(k, wr | {"exploited": True}, headline=True), Count(n, wr, headline=True))
        if s in breakdowns:
            for title, rep in reps.items():
                atoms = release.atoms.filter(pl.col(PART) == rep.name)
                where = {PART: rep.name} | loc
                _representation(
                    release, "representation_exploited", "now", s, "exploited", True, title, where, k, n, atoms
                )
    names = [r.name for r in reps.values()]
    for loc_name in localities:
        _link(
            release,
            key("link", "now", loc_name, "open"),
            {PART: "open", "locality": loc_name},
            {PART: names[0], "locality": loc_name},
        )
        for a, b in itertools.pairwise(names):
            for flagged in (False, True):
                _link(
                    release,
                    key("link", "now", loc_name, b, flagged),
                    {PART: a, "locality": loc_name, "exploited": flagged},
                    {PART: b, "locality": loc_name, "exploited": flagged},
                )
    _locality_lines(release, slices)
    return release


# --- shared view of risk -----------------------------------------------------------------------


def risk_release(people: pl.DataFrame, year: int, as_of: dt.date, localities: list[str]) -> Release:
    """Agreement on the level of risk for a year, by quarter, and for each
    pair of agencies, over cells of the level each agency gave (none where it
    did not assess): every figure is worked out from those levels.

    `people`: risk_people rows of the year (locality, month) with each
    agency's level in a column named by the agency."""
    p = str(year)
    slices = [ALL, *localities] if len(localities) > 1 else [*localities, ALL]
    agencies = list(RISK_AGENCIES)
    mine = people.with_columns(quarter=pl.col("month").dt.truncate("1q"))
    quarters = sorted(mine["quarter"].unique().to_list())
    levels = [None, *RISK_LEVELS]
    assessed = pl.sum_horizontal([pl.col(a).is_not_null().cast(pl.Int32) for a in agencies])
    one_level = pl.min_horizontal(agencies) == pl.max_horizontal(agencies)
    derived = {
        "assessed2": assessed >= 2,
        "agree": (assessed >= 2) & one_level.fill_null(False),
        **{
            f"{a}-{b}": pl.when(pl.col(a).is_null() | pl.col(b).is_null())
            .then(pl.lit("none"))
            .when(pl.col(a) == pl.col(b))
            .then(pl.lit("same"))
            .otherwise(pl.lit("differ"))
            for a, b in RISK_PAIRS
        },
    }
    part = Part(
        "risk",
        mine,
        {"locality": localities, "quarter": quarters, **{a: levels for a in agencies}},
        assessed >= 1,  # a young person in the population was assessed by someone
        derived,
    )
    release = _release(key("risk", year), [part])
    ended = ended_quarters(year, as_of)
    for s in slices:
        w = {PART: "risk"} | ({} if s == ALL else {"locality": s})
        n = key("risk_agreement", p, s, "n")
        release.add(
            Count(n, w | {"assessed2": True}, headline=True),
            Count(key("risk_agreement", p, s, "k"), w | {"agree": True}, published=False),
            Share(key("risk_agreement", p, s), key("risk_agreement", p, s, "k"), n, digits=0),
        )
        for q in ended:
            ql = quarter_label(q)
            qn, qk = key("risk_agreement_quarterly", ql, s, "n"), key("risk_agreement_quarterly", ql, s, "k")
            release.add(
                Count(qn, w | {"quarter": q, "assessed2": True}, published=False),
                Count(qk, w | {"quarter": q, "agree": True}, published=False),
                Share(key("risk_agreement_quarterly", ql, s), qk, qn),
            )
        for a, b in RISK_PAIRS:
            pair = f"{a}-{b}"
            pn, pk = key("risk_pair_differ", p, s, pair, "n"), key("risk_pair_differ", p, s, pair, "k")
            release.add(
                Count(pn, w | {pair: ["same", "differ"]}),
                Count(pk, w | {pair: "differ"}, published=False),
                Share(key("risk_pair_differ", p, s, pair), pk, pn),
            )
    _locality_lines(release, slices)
    return release


# --- outcomes at 17-21 ----------------------------------------------------------------------


ACTIVITY = "activity_class"


def outcomes_release(people: pl.DataFrame, period: str, localities: list[str]) -> Release:
    """NEET, activity not known and homelessness at 17-18 and 19-21 in a
    period, and at 19-21 by what happened at 18, over cells of one activity
    each (in education, employment or training; NEET; not known: never two
    at once, as separate flags would have allowed), accommodation, the plan
    and whether an adult service picked them up.

    `people`: figures.outcome_people rows (locality, band, neet, eet,
    not_known, homeless, plan, picked, missing_total, crisis_total)."""
    slices = [ALL, *localities] if len(localities) > 1 else [*localities, ALL]
    mine = people.with_columns(
        # A young person is counted once in each age band: the unit is the two together.
        (pl.col("young_person_id").cast(pl.String) + "|" + pl.col("band")).alias("id"),
        pl.when(pl.col("neet"))
        .then(pl.lit("NEET"))
        .when(pl.col("eet"))
        .then(pl.lit("EET"))
        .when(pl.col("not_known"))
        .then(pl.lit("not known"))
        .otherwise(pl.lit("other"))
        .alias(ACTIVITY),
    )
    part = Part(
        "outcomes",
        mine,
        {
            "locality": localities,
            "band": ["17-18", "19-21"],
            ACTIVITY: _domain(mine, ACTIVITY, ["EET", "NEET", "not known"]),
            "homeless": [False, True],
            "plan": _domain(mine, "plan", ["on time", "late", "none"]),
            "picked": _domain(mine, "picked", [False, True]),
        },
    )
    release = _release(key("outcomes", period), [part])
    for s in slices:
        w = {PART: "outcomes"} | ({} if s == ALL else {"locality": s})
        scoped = mine if s == ALL else mine.filter(pl.col("locality") == s)
        for band, measure in (("19-21", "neet_19_21"), ("17-18", "neet_17_18")):
            n = key(measure, period, s, "n")
            release.add(
                Count(n, w | {"band": band}, headline=True),
                Count(key(measure, period, s, "k"), w | {"band": band, ACTIVITY: "NEET"}, published=False),
                Share(key(measure, period, s), key(measure, period, s, "k"), n),
                Count(
                    key("activity_not_known", period, s, band, "k"),
                    w | {"band": band, ACTIVITY: "not known"},
                    published=False,
                ),
                Share(key("activity_not_known", period, s, band), key("activity_not_known", period, s, band, "k"), n),
            )
        n19 = key("neet_19_21", period, s, "n")
        release.add(
            Count(key("homeless_19_21", period, s, "k"), w | {"band": "19-21", "homeless": True}, published=False),
            Share(key("homeless_19_21", period, s), key("homeless_19_21", period, s, "k"), n19, digits=0),
        )
        older = scoped.filter(pl.col("band") == "19-21")
        for _title, label, col, value in ROUTE_GROUPS:
            g = key("outcomes_by_route", period, s, label)
            wg = w | {"band": "19-21", col: value}
            group = older.filter(pl.col(col) == value)
            release.add(
                Count(g + "|n", wg),
                Count(g + "|neet_k", wg | {ACTIVITY: "NEET"}, published=False),
                Count(g + "|homeless_k", wg | {"homeless": True}, published=False),
                Share(g + "|neet", g + "|neet_k", g + "|n"),
                Share(g + "|homeless", g + "|homeless_k", g + "|n"),
                Rate(g + "|missing", float(group["missing_total"].sum()), g + "|n"),
                Rate(g + "|crisis", float(group["crisis_total"].sum()), g + "|n"),
            )
        for title in dict.fromkeys(t for t, _, _, _ in ROUTE_GROUPS):
            groups = [key("outcomes_by_route", period, s, lab) + "|n" for t, lab, _, _ in ROUTE_GROUPS if t == title]
            release.line(n19, groups)
    _locality_lines(release, slices)
    return release


# --- the board's figures ----------------------------------------------------------------------


@dataclass
class BoardFigures(Figures):
    """Every figure at board level, each population's released jointly: the
    figures about crossing 18 of a year, those of everyone now, the risk
    assessments and the outcomes of a year are one release each, whatever
    section asks for them. Periods are calendar years (board views have no
    other)."""

    # The last publication's joint releases and the young people behind them, by release name.
    previous: dict[str, tuple[Released, dict[str, pl.DataFrame]]] = field(default_factory=dict)
    # Words for a release kept from the last publication ("as published on 5 November 2026"),
    # and the date its figures were worked out to.
    kept_words: str = ""
    kept_as_of: dt.date | None = None
    # Releases kept from the last publication, and why, by name.
    held: dict[str, str] = field(default_factory=dict)
    # The young people behind each joint release as published (new, or kept), by name.
    people: dict[str, dict[str, pl.DataFrame]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.suppressed:
            raise ValueError("BoardFigures are the board's: disclosure control always applies")

    def _released(self, name: str, make: Callable[[], Release]) -> Released:
        return self._once(self._cache, name, lambda: self._disclosed(make()))  # type: ignore[no-any-return]

    def _disclosed(self, release: Release) -> Released:
        """A release disclosed with what the board was shown of it last time.

        Where its change is too small to show safely (a headline moved by 1
        to the threshold, or a figure whose change would show cannot be
        protected) the last publication's release is kept. A figure a reader
        knows from before is never offered as protection; where that alone
        leaves a count unprotectable (a figure an older publication showed
        that this one would hide), it may be hidden all the same: hiding it
        again tells the reader nothing new, and keeping the older figures
        would keep their weakness for good."""
        before = self.previous.get(release.name)
        if not release.explicit or before is None:
            made = disclose(release, True, self.threshold)
            if release.explicit:
                self.people[release.name] = release.people
            return withhold_all(release, self.threshold) if made.audit.recoverable else made
        shown, people = before
        known = prior(release, people, shown, self.threshold)
        counts = {i.key: i for i in release.items if isinstance(i, Count)}
        moved = [k for k in known.exposed if counts[k].headline]
        made = disclose(release, True, self.threshold, known) if not moved else None
        if made is not None and made.audit.recoverable:
            made = disclose(release, True, self.threshold, dataclasses.replace(known, fixed=frozenset()))
        changed_too_little = made is None or (
            made.audit.recoverable > 0 and not disclose(release, True, self.threshold).audit.recoverable
        )
        if changed_too_little:
            self.held[release.name] = (
                f"{len(moved)} headline {'figure' if len(moved) == 1 else 'figures'} moved by {self.threshold} or fewer"
                if moved
                else f"{made.audit.recoverable} changed "  # type: ignore[union-attr]
                f"{'figure' if made.audit.recoverable == 1 else 'figures'} could not be protected"  # type: ignore[union-attr]
            )
            self.people[release.name] = people
            if shown.kept:
                return shown
            note = (
                f"These figures are {self.kept_words}: too few young people's records have changed since for "
                "the change to be shown without giving a small group away. They are updated once more has "
                "changed."
            )
            return dataclasses.replace(shown, kept=self.kept_words, kept_as_of=self.kept_as_of, note=note)
        self.people[release.name] = release.people
        return withhold_all(release, self.threshold) if made.audit.recoverable else made

    def _transitions(self, year: int) -> Released:
        """The year's figures about crossing 18: all of them for a year the
        board can choose as a period, the quarterly ones for the years before."""
        people = self._memo(
            "transition_cells", lambda: self._transition_people().with_columns(year=pl.col("month").dt.year())
        )
        make = (
            transitions_release
            if str(year) in period_options(self.as_of, rolling=False)
            else transitions_series_release
        )
        return self._released(
            key("transitions", year),
            lambda: make(
                people.filter(pl.col("year") == year).drop("year"), year, self.as_of, self.localities, self.breakdowns
            ),
        )

    def flow(self, period: str) -> Released:
        return self._transitions(int(period)) if period.isdigit() else super().flow(period)

    def gap(self, period: str) -> Released:
        return self._transitions(int(period)) if period.isdigit() else super().gap(period)

    def slipped(self, period: str) -> Released:
        return self._transitions(int(period)) if period.isdigit() else super().slipped(period)

    def series_release(self, measure: str, year: int) -> Released:
        if measure in ("post18_pickup_3m", "slipped_through"):
            return self._transitions(year)
        if measure == "risk_agreement_quarterly":
            return self.risk(str(year))
        return super().series_release(measure, year)

    def risk(self, period: str) -> Released:
        if not period.isdigit():
            return super().risk(period)
        year = int(period)
        people = self._memo("risk_cells", lambda: risk_people(self.cohort).rename({"young_person_id": "id"}))
        first, last = period_months(period, self.as_of)
        return self._released(
            key("risk", year),
            lambda: risk_release(
                people.filter(pl.col("month").is_between(first, last)), year, self.as_of, self.localities
            ),
        )

    def open_now(self) -> Released:
        def make() -> Release:
            everyone = self.cohort.young_people.select(
                "id",
                "locality",
                (pl.col("cce") | pl.col("cse")).alias("exploited"),
                *(c for c, _ in CHARACTERISTICS.values()),
            )
            return now_release(open_now_people(self.cohort, self.as_of), everyone, self.localities, self.breakdowns)

        return self._released("now", make)

    def cohort_all(self) -> Released:
        return self.open_now()

    def outcomes(self, period: str) -> Released:
        if not period.isdigit():
            return super().outcomes(period)
        first, last = period_months(period, self.as_of)
        return self._released(
            key("outcomes", period),
            lambda: outcomes_release(outcome_people(self.cohort, self.as_of, first, last), period, self.localities),
        )


# --- what changed since the last publication ------------------------------------------------------


def _matches(frame: pl.DataFrame, where: dict[str, object], suffix: str) -> pl.Expr:
    """Whether each row (its `suffix` columns) is among a count's young people."""
    cond = pl.col(f"_in{suffix}")
    for dim, wanted in where.items():
        if dim == PART:
            continue
        column = pl.col(f"{dim}{suffix}")
        values = list(wanted) if isinstance(wanted, (list, tuple, set, frozenset)) else [wanted]
        known = [v for v in values if v is not None]
        test = column.is_in(known) if known else pl.lit(False)
        cond = cond & (test.fill_null(False) | (column.is_null() if None in values else pl.lit(False)))
    return cond


def prior(release: Release, before_people: dict[str, pl.DataFrame], before: Released, threshold: int) -> Prior:
    """What the board was shown of this release last time (`before`, with the
    young people behind it) against who is behind each count now: which
    figures are about the same young people (fixed if they were shown,
    sticky if hidden) and which changed by a small group one way (exposed)."""
    counts = [i for i in release.items if isinstance(i, Count) and i.published and i.key in before.values]
    by_part: dict[str, list[Count]] = {}
    for c in counts:
        by_part.setdefault(str(c.where.get(PART)), []).append(c)
    fixed, sticky, sticky_primary, sticky_withheld = set(), set(), set(), set()
    exposed: dict[str, tuple[int, int]] = {}
    for part, mine in by_part.items():
        now, then = release.people.get(part), before_people.get(part)
        if now is None or then is None or set(now.columns) != set(then.columns):
            continue  # nothing to compare with: the part is new, or counts other things now
        both = now.with_columns(_in=pl.lit(True)).join(
            then.with_columns(_in=pl.lit(True)), on="id", how="full", coalesce=True, suffix="_before"
        )
        both = both.rename({c: f"{c}_now" for c in [*now.columns, "_in"] if c != "id"}).with_columns(
            pl.col("_in_now").fill_null(False), pl.col("_in_before").fill_null(False)
        )
        tallies = both.select(
            *(
                (_matches(both, c.where, "_now") & ~_matches(both, c.where, "_before")).sum().alias(f"{i}|e")
                for i, c in enumerate(mine)
            ),
            *(
                (_matches(both, c.where, "_before") & ~_matches(both, c.where, "_now")).sum().alias(f"{i}|l")
                for i, c in enumerate(mine)
            ),
        ).row(0, named=True)
        for i, c in enumerate(mine):
            entered, left = int(tallies[f"{i}|e"]), int(tallies[f"{i}|l"])
            shown = before.values.get(c.key)
            if entered == 0 and left == 0:
                if c.key in before.withheld:
                    sticky_withheld.add(c.key)
                if c.key in before.hidden:
                    sticky.add(c.key)
                    if c.key in before.primary:
                        sticky_primary.add(c.key)
                elif isinstance(shown, int):
                    fixed.add(c.key)
            elif isinstance(shown, int) and (left == 0) != (entered == 0) and max(entered, left) <= threshold:
                exposed[c.key] = (shown + 1, shown + threshold) if left == 0 else (max(1, shown - threshold), shown - 1)
    return Prior(frozenset(fixed), frozenset(sticky), frozenset(sticky_primary), exposed, frozenset(sticky_withheld))
