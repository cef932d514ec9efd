"""The app's run: page config, sign-in, and the pages this viewer may open.
Called by dashboard.py on every script run."""

from __future__ import annotations

import streamlit as st

from ui import data, present
from ui.auth import signed_in_viewer

# Every page is registered for everyone once signed in, and Streamlit's own
# list is always hidden: the sidebar lists only what this viewer may open
# (links drawn below), so nothing of the last user stays after sign-out, and
# a page typed by someone whose role may not open it reaches that page's
# guard, which says so, instead of Streamlit's "Page not found". Before
# sign-in st.navigation is not called at all; Streamlit then runs the app as
# a folder of pages, whose list `client.showSidebarNavigation = false` hides.
PAGES = [
    ("pages/overview.py", "Overview", ":material/dashboard:", "", None),
    ("pages/cohort.py", "Cohort flow across 18", ":material/conversion_path:", "cohort", None),
    ("pages/capacity.py", "Team capacity", ":material/groups:", "capacity", None),
    ("pages/themes.py", "Programme progress", ":material/flag:", "themes", None),
    ("pages/stories.py", "Presentations", ":material/slideshow:", "stories", None),
    ("pages/definitions.py", "How figures are worked out", ":material/menu_book:", "definitions", None),
    ("pages/quality.py", "Data quality", ":material/fact_check:", "quality", {"admin", "project_lead"}),
    ("pages/data.py", "Data", ":material/upload_file:", "data", {"admin"}),
    ("pages/sessions.py", "Sessions and audit", ":material/admin_panel_settings:", "sessions", {"admin"}),
]


def run() -> None:
    st.set_page_config(page_title="Transitional safeguarding", page_icon=":material/diversity_3:", layout="wide")

    data.engine()  # first start builds the demo database and says so in the terminal
    is_demo = data.db_settings().get("synthetic") == "true"

    nav_slot = st.sidebar.container()  # first in the sidebar on every run, so positions stay put
    viewer = signed_in_viewer(is_demo)
    if viewer is None:
        return
    navigation = st.navigation(
        [
            st.Page(path, title=title, icon=icon, default=not url, **({"url_path": url} if url else {}))
            for path, title, icon, url, _roles in PAGES
        ],
        position="hidden",
    )
    if not present.active():  # presenting hides the sidebar and everything in it
        with nav_slot:
            for path, title, icon, _url, roles in PAGES:
                if roles is None or viewer.role in roles:
                    st.page_link(path, label=title, icon=icon)
            st.divider()
    navigation.run()
