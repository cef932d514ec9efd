"""How figures are worked out: the catalogue of measures, in words, and the
disclosure rule. Generated from partnership/catalogue.py, so it cannot drift
from what the figures are."""

from __future__ import annotations

import streamlit as st

from partnership import progress
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
    f"shown as **c**, the government statistical symbol for *not shown to protect confidentiality*; a figure hidden "
    "because it would let a small one be worked out is shown as c too, so c does not say a figure is small. 0 is "
    "shown as 0. A percentage, rate or median built on a hidden count is hidden too."
)
st.markdown(
    "**One publication, checked as a whole.** The board does not see the data as it is now: it sees the board's "
    f"publication, made every {data.settings().publication_days} days when the data have changed, or when the "
    "project lead publishes. Every figure, sentence, chart, table, story, board pack and export the board can "
    "see in it (every page, locality, period and quarter) is worked out at once, and each population's figures "
    "(for example everyone who turned 18 in a year: the flow, the gap, who slipped through the net and Theme 1's "
    "quarterly figure) are checked together, as a reader would use them who holds all of it, and who knows which "
    f"hidden counts are small. For each hidden count, the whole numbers it could be must number at least "
    f"{protection(threshold)}; where they would not, a further figure is hidden (a total whose other parts are "
    "hidden first, then the smallest next to it), a table too small to break down is left out, and a population "
    "too small to show at all is not shown. Board views use calendar years and the whole cohort, and every figure "
    "about crossing 18 counts one population: young people six months past their 18th birthday."
)
st.markdown(
    "**From one publication to the next.** A reader who holds the last publication as well takes a figure that "
    "moved to be about the young people who entered or left it. A figure about the same young people as last time "
    "is shown or hidden as it was. A figure that moved because 1 to "
    f"{threshold} young people came into it or left it (and nobody the other way) is hidden like a small count; "
    "where that cannot be done safely, or a headline figure moved by so few, that population's figures are kept "
    "as last published, and the page says so, until more has changed."
)
st.markdown(
    "**Words.** Direction of travel and status are worked out from the values the reader is shown, never from a "
    f"hidden one. {progress.DIRECTION_RULE} The threshold is a setting (DASHBOARD_SUPPRESSION_THRESHOLD, now "
    f"{threshold})."
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
