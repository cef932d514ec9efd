"""Entry point of `streamlit run dashboard.py`.

Streamlit looks for an st.App in the entry script. Imported by the server
(as module `dashboard`), this file gives it one: the app itself (this same
file, run as `__main__` for every session's script run) with the session
cookie route beside it (ui/session_routes.py). Run as a script, it draws
the app.
"""

from __future__ import annotations

import streamlit as st

if __name__ == "__main__":
    from ui.entry import run

    run()
else:
    from ui.session_routes import ROUTES

    app = st.App(__file__, routes=ROUTES)
