"""Imported first by cli.py, before any of the app's modules: Streamlit's
warnings about running outside a page are silenced (partnership/bare.py)."""

from partnership.bare import quiet_command_line

quiet_command_line()
