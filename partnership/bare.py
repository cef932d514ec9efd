"""The app's modules outside a page run, without Streamlit's warnings about it.

The modules' caches and elements (and streamlit-authenticator's, at import)
make Streamlit warn when they are used outside a page run ("missing
ScriptRunContext", "No runtime found"). Two places are outside one on
purpose: the command line, which calls `quiet_command_line()` before it
imports anything else (partnership/cli_start.py) so that only Streamlit's
errors are shown and a command's output says what it did; and the server's
start, which loads the app's modules in its main thread before any session
runs (dashboard.py) inside `outside_page_runs()`, leaving Streamlit's
warnings as they are for the runs themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

# Where the loggers that warn about being outside a page run are.
_NOISY = ("streamlit.runtime.caching", "streamlit.runtime.scriptrunner_utils.script_run_context")


@contextmanager
def outside_page_runs() -> Iterator[None]:
    import streamlit.runtime.caching
    import streamlit.runtime.scriptrunner_utils.script_run_context  # noqa: F401

    loggers = [
        logger
        for name, logger in logging.Logger.manager.loggerDict.items()
        if isinstance(logger, logging.Logger) and name.startswith(_NOISY)
    ]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def quiet_command_line() -> None:
    import streamlit.logger
    from streamlit import config

    config.get_option("logger.level")  # parsed now, so it does not set the level back later
    config.set_option("logger.level", "error")
    streamlit.logger.set_log_level("error")
