"""Importers: validate everything first, then write in one transaction."""
