"""Every figure the product releases belongs to a measure of the catalogue,
and the "How figures are worked out" page shows every measure."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.db import get_engine
from partnership import capacity, figures, queries, sections, themes
from partnership.catalogue import CATALOGUE, MEASURES, measure
from partnership.disclosure import disclose
from tests.apptest_support import private_copy, signed_in
from tests.conftest import DEMO_AS_OF, seed_small


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("catalogue") / "seeded.db"
    seed_small(f"sqlite:///{path}", 400, 11)
    get_engine(f"sqlite:///{path}").dispose()
    return path


def test_every_released_figure_is_a_catalogue_measure(seeded: Path) -> None:
    engine = get_engine(f"sqlite:///{seeded}")
    localities = queries.load_localities(engine)
    ids = localities["id"].to_list()
    figs = figures.Figures(queries.load_cohort(engine, ids), DEMO_AS_OF, False, 5, sorted(localities["name"]))
    view = sections.View("2025", figures.ALL, DEMO_AS_OF)
    sections.overview_cards(figs, view, None)
    for build in (sections.flow_section, sections.gap_section, sections.risk_section, sections.representation_section):
        build(figs, view)
    sections.age_section(figs, view, None)
    sections.outcomes_section(figs, view, None)
    themes.indicator_views(
        queries.load_indicators(engine), figs, queries.load_indicator_values(engine), DEMO_AS_OF, "all"
    )
    staffing = capacity.month_of(queries.load_staffing(engine, ids), None)
    released = [
        *figs.released(),
        disclose(figures.cases_release(staffing, "m", 15.0), False),
        disclose(figures.holders_release(staffing, "m", 15.0, by_team=True), False),
    ]
    keys = {k for r in released for k in r.values}
    assert len(keys) > 500
    unknown = sorted({k.split("|", 1)[0] for k in keys} - set(CATALOGUE))
    assert not unknown, f"figures released under no measure: {unknown}"
    assert {measure(k).id for k in keys} <= set(CATALOGUE)


def test_definitions_page_lists_every_measure_for_every_role(
    seeded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    private_copy(seeded, tmp_path, monkeypatch)
    for user in ("board", "manager_east"):
        at = signed_in(user, "pages/definitions.py")
        titles = [e.label for e in at.expander]
        assert titles == [m.name for m in MEASURES]
        text = " ".join(m.value for m in at.markdown)
        assert "A count from 1 to 5 is shown as **c**" in text and "DASHBOARD_SUPPRESSION_THRESHOLD" in text
    # A card's link opens its entry.
    at.query_params["measure"] = "gap_days"
    at.run()
    opened = [e.label for e in at.expander if e.proto.expanded]
    assert opened == [CATALOGUE["gap_days"].name]
