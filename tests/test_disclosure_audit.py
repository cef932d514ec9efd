"""The disclosure audit over every board-level view of the demo partnership,
at threshold 5 and at threshold 10: every release behind the pages, the
stories and the board pack (every calendar year a board member can choose,
the partnership and each locality, every quarter of the trends and every
month of staffing) reports no small count a reader can narrow.

A second, independent check does not trust the engine's own audit: from the
release's structure and only what a reader is shown, an integer program
(scipy's MILP, not the engine's linear programs) works out the whole
numbers each small hidden count could take.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

from models.db import get_engine
from partnership import capacity, figures, queries, sections, themes
from partnership.disclosure import SUPPRESSED, Audit, Count, Release, Released, Share, disclose, narrowed, protection
from partnership.metrics import period_options
from tests.conftest import DEMO_AS_OF, seed_small


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('audit') / 'demo.db'}"
    seed_small(url, 2000, 2024)
    return url


def _figures(url: str, threshold: int) -> tuple[figures.Figures, pl.DataFrame]:
    engine = get_engine(url)
    localities = queries.load_localities(engine)
    ids = localities["id"].to_list()
    figs = figures.Figures(queries.load_cohort(engine, ids), DEMO_AS_OF, True, threshold, sorted(localities["name"]))
    return figs, queries.load_staffing(engine, ids)


@pytest.mark.parametrize("threshold", [5, 10])
def test_every_board_view_passes_the_audit(demo: str, threshold: int, capsys: pytest.CaptureFixture[str]) -> None:
    figs, staffing = _figures(demo, threshold)
    engine = get_engine(demo)
    indicators, values = queries.load_indicators(engine), queries.load_indicator_values(engine)
    for period in period_options(DEMO_AS_OF, rolling=False):
        for slice_ in figs.slices:
            view = sections.View(period, slice_, DEMO_AS_OF)
            sections.overview_cards(figs, view, None)
            for build in (sections.flow_section, sections.gap_section, sections.risk_section):
                build(figs, view)
            sections.age_section(figs, view, None)
            sections.outcomes_section(figs, view, None)
            sections.representation_section(figs, view)
    for slice_ in figs.slices:
        themes.indicator_views(indicators, figs, values, DEMO_AS_OF, slice_)
    released = figs.released()
    for month in staffing["month"].unique().to_list():
        rows = capacity.month_of(staffing, month)
        label = month.strftime("%Y-%m")
        released.append(disclose(figures.cases_release(rows, label, 15.0), True, threshold))
        released.append(disclose(figures.holders_release(rows, label, 15.0, by_team=False), True, threshold))
    total = Audit()
    for r in released:
        total = total.merge(r.audit)
        assert r.audit.recoverable == 0, (
            f"{r.name}: {[i for i in r.audit.intervals if narrowed(i.low, i.high, threshold)]}"
        )
    with capsys.disabled():
        print(f"\nthreshold {threshold}: {len(released)} releases, {total.words()}, {total.withheld} withheld")
    assert total.primary > 0 and total.hidden >= total.primary


def reader_ranges(release: Release, shown: Released, threshold: int) -> dict[str, tuple[float, float]]:
    """For each count shown as c for being small: the least and greatest whole
    number it could be, given only what is shown. Independent of the engine:
    scipy's MILP over the release's atoms (every combination of their values)."""
    dims = [c for c in release.atoms.columns if c != "n"]
    grid = release.atoms.select(pl.col(dims[0]).unique())
    for d in dims[1:]:
        grid = grid.join(release.atoms.select(pl.col(d).unique()), how="cross")
    counts = {i.key: i for i in release.items if isinstance(i, Count)}

    def row(item: Count) -> np.ndarray:
        cond = pl.lit(True)
        for dim, wanted in item.where.items():
            cond = cond & (
                pl.col(dim).is_in(list(wanted)) if isinstance(wanted, (list, tuple, set)) else pl.col(dim) == wanted
            )
        return grid.with_columns(cond.fill_null(False).alias("_m"))["_m"].to_numpy().astype(float)

    rows_, lo, hi = [], [], []
    for key, item in counts.items():
        v = shown.values.get(key, "helper")
        if not item.published or key in shown.withheld or v == "helper":
            continue
        if isinstance(v, int):
            rows_.append(row(item))
            lo.append(v)
            hi.append(v)
        elif v == SUPPRESSED:
            rows_.append(row(item))
            lo.append(1)
            hi.append(threshold if key in shown.primary else np.inf)
        elif v is None and item.unlisted_when_small:
            rows_.append(row(item))
            lo.append(0)
            hi.append(threshold)
    for s in (i for i in release.items if isinstance(i, Share)):
        v = shown.values.get(s.key)
        if isinstance(v, float):
            half = 0.5 * 10.0 ** (-s.digits)
            num, den = 100 * row(counts[s.num]), row(counts[s.den])
            rows_.append(num - (v - half) * den)
            lo.append(0)
            hi.append(np.inf)
            rows_.append(num - (v + half) * den)
            lo.append(-np.inf)
            hi.append(0)
    for a, b in release.equal:
        rows_.append(row(counts[a]) - row(counts[b]))
        lo.append(0)
        hi.append(0)
    cons = [LinearConstraint(np.vstack(rows_), np.array(lo), np.array(hi))]
    n = grid.height
    out = {}
    for key in shown.primary:
        if key in shown.withheld or shown.values.get(key) != SUPPRESSED:
            continue
        objective = row(counts[key])
        low = milp(objective, constraints=cons, integrality=np.ones(n), bounds=Bounds(0, np.inf))
        high = milp(-objective, constraints=cons, integrality=np.ones(n), bounds=Bounds(0, np.inf))
        out[key] = (round(low.fun), round(-high.fun) if high.status == 0 else np.inf)
    return out


@pytest.mark.parametrize("family", ["gap", "slipped", "outcomes", "open_now", "risk", "caseloads"])
def test_a_readers_integer_program_agrees(demo: str, family: str) -> None:
    # A sample of the demo's people (and a ninth of each holder's cases) so that
    # every family has small counts to protect: at full size risk, outcome and
    # caseload counts are all above the threshold and there is nothing to check.
    threshold = 5
    figs, staffing = _figures(demo, threshold)
    slices, as_of = figs.slices, DEMO_AS_OF

    def tenth(frame: pl.DataFrame, fraction: float = 0.1) -> pl.DataFrame:
        return frame.sample(fraction=fraction, seed=11)

    if family == "gap":
        release = figures.gap_release(tenth(figs._transition_people()), "2025", as_of, slices, figs.breakdowns)
    elif family == "slipped":
        people = tenth(figures.slipped_people(figs.cohort, as_of))
        release = figures.slipped_release(people, "2025", as_of, slices, figs.breakdowns)
    elif family == "risk":
        release = figures.risk_release(tenth(figures.risk_people(figs.cohort), 0.03), "2025", as_of, slices)
    elif family == "outcomes":
        people = tenth(figures.outcome_people(figs.cohort, as_of, *figures.period_months("2025", as_of)))
        release = figures.outcomes_release(people, "2025", slices)
    elif family == "open_now":
        release = figures.open_now_release(tenth(figures.open_now_people(figs.cohort, as_of)), slices)
    else:
        rows = capacity.month_of(staffing, None).with_columns(pl.col("cases_held") // 9)
        release = figures.cases_release(rows, "m", 15.0)
    shown = disclose(release, True, threshold)
    ranges = reader_ranges(release, shown, threshold)
    assert ranges, "the demo has small counts here to protect"
    for key, (low, high) in ranges.items():
        assert high - low + 1 >= protection(threshold), f"{key}: a reader can pin it to {low}..{high}"
