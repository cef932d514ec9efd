"""Streamlit-side helpers shared by the entry script and the pages."""
