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
    # Loaded once here, in the server's main thread, before any session runs:
    # imported lazily by the first runs instead, pandas was seen half
    # initialised by Altair in another session's thread (AttributeError:
    # partially initialized module 'pandas'), under eight sessions at start.
    import pandas  # noqa: F401
    import pyarrow  # noqa: F401

    from partnership.bare import outside_page_runs

    with outside_page_runs():
        # ui.entry brings most modules the pages use; the rest are named.
        import partnership.catalogue  # noqa: F401
        import ui.entry
        import ui.filters
        import ui.problems  # noqa: F401
        from ui.session_routes import ROUTES

    app = st.App(__file__, routes=ROUTES)
