"""Overview figures as a board member and as the lead see them."""

from __future__ import annotations

import polars as pl

from partnership import overview
from tests.test_metrics import AS_OF, _cohort

NO_STAFF = pl.DataFrame(
    schema={"month": pl.Date, "funded_fte": pl.Float64, "filled_fte": pl.Float64, "agency_fte": pl.Float64}
)
NO_INDICATORS = pl.DataFrame(schema={"id": pl.Int64, "source": pl.String})
NO_VALUES = pl.DataFrame(schema={"indicator_id": pl.Int64, "period": pl.Date, "value": pl.Float64})


def _figures(suppressed: bool, period: str = "2025") -> dict[str, str]:
    ov = overview.build(_cohort(), NO_STAFF, NO_INDICATORS, NO_VALUES, AS_OF, period, suppressed)
    return {f.label: f.value for f in ov.figures}


def test_lead_sees_exact_figures() -> None:
    figures = _figures(False)
    assert figures["Open aged 16-17 now"] == "4"
    assert figures["Turning 18 in the next 6 months"] == "2"
    assert figures["Adult service within 3 months of 18"] == "33%"  # 1 of 3 in 2025
    assert figures["Median gap, children's to adult service"] == "79 days"  # (21 + 137) / 2


def test_board_sees_small_numbers_suppressed() -> None:
    figures = _figures(True)
    assert figures["Open aged 16-17 now"] == "c (fewer than 6)"
    assert figures["Turning 18 in the next 6 months"] == "c (fewer than 6)"
    assert figures["Adult service within 3 months of 18"] == "c"
    assert figures["Median gap, children's to adult service"] == "no data"  # built on 2 young people
    ov = overview.build(_cohort(), NO_STAFF, NO_INDICATORS, NO_VALUES, AS_OF, "2025", True)
    # East 2 and Central 2, total 4: every cell hidden.
    assert ov.open_16_17.to_dicts() == [
        {"locality": "Central", "young_people": "c"},
        {"locality": "East", "young_people": "c"},
        {"locality": "Total", "young_people": "c"},
    ]
