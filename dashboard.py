"""Entry point: page config, sign-in, navigation built from the viewer's role."""

from __future__ import annotations

import streamlit as st

from ui import data, present
from ui.auth import signed_in_viewer

st.set_page_config(page_title="Transitional safeguarding", page_icon=":material/diversity_3:", layout="wide")

data.engine()  # first start builds the demo database and says so in the terminal
is_demo = data.db_settings().get("synthetic") == "true"
viewer = signed_in_viewer(is_demo)
if viewer is None:
    st.stop()

pages = [
    st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
    st.Page("pages/cohort.py", title="Cohort flow across 18", icon=":material/conversion_path:", url_path="cohort"),
    st.Page("pages/capacity.py", title="Team capacity", icon=":material/groups:", url_path="capacity"),
    st.Page("pages/themes.py", title="Programme progress", icon=":material/flag:", url_path="themes"),
    st.Page("pages/stories.py", title="Presentations", icon=":material/slideshow:", url_path="stories"),
    st.Page(
        "pages/definitions.py", title="How figures are worked out", icon=":material/menu_book:", url_path="definitions"
    ),
]
# The pages guard themselves too: a URL typed by anyone else is refused there.
if viewer.role in ("admin", "project_lead"):
    pages.append(st.Page("pages/quality.py", title="Data quality", icon=":material/fact_check:", url_path="quality"))
if viewer.role == "admin":
    pages.append(st.Page("pages/data.py", title="Data", icon=":material/upload_file:", url_path="data"))
# Presentation mode hides the navigation with the rest of the sidebar.
st.navigation(pages, position="hidden" if present.active() else "sidebar").run()
