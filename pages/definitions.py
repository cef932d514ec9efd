"""How figures are worked out: the catalogue of measures, in words, and the
disclosure rule. Generated from partnership/catalogue.py, so it cannot drift
from what the figures are."""

from __future__ import annotations

import streamlit as st

from partnership.access import ALL_ROLES
from partnership.catalogue import MEASURES
from partnership.disclosure import protection
from ui import chrome, data
from ui.auth import guard

viewer = guard(ALL_ROLES)
chrome.page_header(viewer, "definitions", "How figures are worked out")
threshold = data.settings().suppression_threshold
wanted = st.query_params.get("measure")

st.markdown(
    "Every figure in this dashboard, in the board pack and in every export comes from one measure below, "
    "worked out once. Where two populations are needed (a year against a quarter, everyone against those with "
    "intensive support) they are two measures with two names."
)
st.subheader("Disclosure control")
st.markdown(
    f"Board members (and any story shown at board level) see aggregates only. A count from 1 to {threshold} is "
    f"shown as **c** (*fewer than {threshold + 1}* in sentences); 0 is shown as 0. A percentage, rate or median "
    f"built on such a count is hidden too. Then every table, total, percentage and sentence of a view is checked "
    "together with the same figures for each locality and the partnership, and for every quarter of a year: for "
    f"each hidden count, the whole numbers it could be, given everything published, must number at least "
    f"{protection(threshold)}. Where they would not, a further figure is hidden (the smallest next to it first), "
    "and a table too small to break down at all is left out. Board views use calendar years and the whole cohort, "
    "so no two views differ by a few young people. The threshold is a setting "
    f"(DASHBOARD_SUPPRESSION_THRESHOLD, now {threshold})."
)
st.subheader("Measures")
for m in MEASURES:
    with st.expander(m.name, expanded=m.id == wanted):
        st.markdown(
            f"**Who is counted:** {m.population}.  \n"
            f"**What is counted:** {m.numerator}.  \n"
            + (f"**Out of:** {m.denominator}.  \n" if m.denominator else "")
            + f"**Unit:** {m.unit}; **better when:** {m.polarity}; **by:** {m.grain}.  \n"
            f"**Data:** {m.source}.  \n"
            f"*Measure id `{m.id}`.*"
        )
