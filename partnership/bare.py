"""Imported first by the command line, before any of the app's modules.

The commands share modules with the app, and those modules' caches and
elements make Streamlit warn when they are used outside a page run ("missing
ScriptRunContext", "No runtime found"), at import and at every call. Outside a
page run is where a command is meant to be, so only Streamlit's errors are
shown: a command's output says what the command did.
"""

from __future__ import annotations


def _quiet() -> None:
    import streamlit.logger
    from streamlit import config

    config.get_option("logger.level")  # parsed now, so it does not set the level back later
    config.set_option("logger.level", "error")
    streamlit.logger.set_log_level("error")


_quiet()
