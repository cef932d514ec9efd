"""Alembic environment: the engine comes from the caller or DATABASE_URL."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import models  # noqa: F401  (registers every table on the metadata)
from models.db import get_engine
from partnership.settings import get_settings

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine") or get_engine(get_settings().database_url)
    with engine.begin() as connection:
        # render_as_batch lets ALTER-style changes work on SQLite later.
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
