"""Pseudonymisation applied before anything about a young person is stored."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac


def pseudonymise(source_id: str, key: bytes) -> str:
    """Keyed hash of a source system id. Without the key (kept outside the
    database) the hash cannot be linked back by hashing candidate ids."""
    return hmac.new(key, source_id.strip().encode(), hashlib.sha256).hexdigest()


def month_of(day: dt.date) -> dt.date:
    """Cut a date of birth to its month: the day is never stored."""
    return day.replace(day=1)


SHORT_KEY_LENGTH = 10


def short_key(pseudo_key: str) -> str:
    """The form shown on screen: enough to tell rows apart in a list."""
    return pseudo_key[:SHORT_KEY_LENGTH]
