"""The session cookie's signing key, the same for the app's runs and its
cookie route, and for every app process given the same secret."""

from __future__ import annotations

import streamlit as st

from partnership.settings import cookie_key


def session_cookie_key() -> str:
    try:
        secret = st.secrets.get("cookie_key")
    except (FileNotFoundError, KeyError, st.errors.StreamlitSecretNotFoundError):
        secret = None
    return cookie_key(secret)
