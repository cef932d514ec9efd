"""One settings object, read from the environment.

Secrets (cookie key, pseudonymisation key) come from the environment or, for
a single-machine install, from files generated once under data/ and ignored
by git: never from a literal in code.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
DEFAULT_DEMO_PASSWORD = "empower-demo-2026"
MIN_KEY_BYTES = 32


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    return float(raw) if raw else default


def default_database_url() -> str:
    return f"sqlite:///{DATA_DIR / 'dashboard.db'}"


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=lambda: os.environ.get("DATABASE_URL") or default_database_url())
    # A read-only PostgreSQL streaming replica of DATABASE_URL for the pages' figures (optional).
    database_read_url: str = field(default_factory=lambda: os.environ.get("DATABASE_READ_URL", "").strip())
    demo_password: str = field(
        default_factory=lambda: os.environ.get("DASHBOARD_DEMO_PASSWORD") or DEFAULT_DEMO_PASSWORD
    )
    # DfE children-in-need statistics suppress counts 1 to 5.
    suppression_threshold: int = field(default_factory=lambda: _env_int("DASHBOARD_SUPPRESSION_THRESHOLD", 5))
    caseload_threshold: float = field(default_factory=lambda: _env_float("DASHBOARD_CASELOAD_THRESHOLD", 15.0))
    # At risk (not off track) when short of target by no more than this share
    # of the distance from baseline to target.
    status_tolerance: float = field(default_factory=lambda: _env_float("DASHBOARD_STATUS_TOLERANCE", 0.25))
    # Failed sign-ins before an account is locked until an admin resets it;
    # one address alone can bring it to one short of this, never to it.
    max_failed_attempts: int = field(default_factory=lambda: _env_int("DASHBOARD_MAX_FAILED_ATTEMPTS", 5))
    # Failed sign-ins one address may make, across accounts, in 15 minutes
    # before it must wait (30 s, doubling with each further failure, to 15 min).
    address_free_failures: int = field(default_factory=lambda: _env_int("DASHBOARD_ADDRESS_FREE_FAILURES", 5))
    # Our authority in DfE files (old_la_code), for comparisons; 888 = Lancashire.
    our_la_code: str = field(default_factory=lambda: os.environ.get("DASHBOARD_OUR_LA", "").strip() or "888")
    # A session ends after this long without a click, and this long after
    # sign-in whatever happens (OWASP ASVS 3.3: idle and absolute timeouts).
    session_idle_minutes: float = field(default_factory=lambda: _env_float("DASHBOARD_SESSION_IDLE_MINUTES", 30.0))
    session_max_hours: float = field(default_factory=lambda: _env_float("DASHBOARD_SESSION_MAX_HOURS", 12.0))
    # Input limits, the same for an upload and the command line. A real
    # SSDA903 episodes file of 100,000 rows is about 12 MB; an Excel file is
    # refused before it is unpacked if it would unpack to more than
    # max_unpacked_mb or hold more than max_cells cells (a zip bomb of 12 MB
    # unpacks to 2.6 GB). The upload limit is also Streamlit's
    # server.maxUploadSize in .streamlit/config.toml: keep the two equal.
    max_file_mb: int = field(default_factory=lambda: _env_int("DASHBOARD_MAX_FILE_MB", 50))
    max_unpacked_mb: int = field(default_factory=lambda: _env_int("DASHBOARD_MAX_UNPACKED_MB", 100))
    max_cells: int = field(default_factory=lambda: _env_int("DASHBOARD_MAX_CELLS", 2_000_000))
    max_field_chars: int = field(default_factory=lambda: _env_int("DASHBOARD_MAX_FIELD_CHARS", 1000))
    # The board's figures are published this often (days), when the data have changed since
    # the last publication; the project lead can publish at any time.
    publication_days: int = field(default_factory=lambda: _env_int("DASHBOARD_PUBLICATION_DAYS", 30))

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def get_settings() -> Settings:
    return Settings()


def _file_secret(env_name: str, filename: str) -> str:
    """A secret from the environment, else from a git-ignored file made once."""
    value = os.environ.get(env_name, "").strip()
    if value:
        if len(value.encode()) < MIN_KEY_BYTES:
            raise ValueError(f"{env_name} must be at least {MIN_KEY_BYTES} bytes long")
        return value
    path = DATA_DIR / filename
    if path.exists():
        return _read_key_file(path)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32)
    # Written to a private temporary file and linked into place, so the key is
    # never world readable and a reader never sees it half written. When two
    # sessions of a fresh server race here, the loser reads the winner's key.
    tmp = path.with_name(f".{filename}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    try:
        os.link(tmp, path)
    except FileExistsError:
        return _read_key_file(path)
    finally:
        tmp.unlink()
    return value


def _read_key_file(path: Path) -> str:
    value = path.read_text().strip()
    if not value:
        raise ValueError(f"{path.name} is empty: delete it to have a new key made, or set the key in the environment")
    return value


def cookie_key(from_secrets: str | None = None) -> str:
    """The sign-in cookie's signing key: st.secrets first (passed in by the
    app), then DASHBOARD_COOKIE_KEY, then a generated file."""
    if from_secrets:
        if len(from_secrets.encode()) < MIN_KEY_BYTES:
            raise ValueError(f"cookie_key in secrets must be at least {MIN_KEY_BYTES} bytes long")
        return from_secrets
    return _file_secret("DASHBOARD_COOKIE_KEY", ".cookie_key")


def pseudonym_key() -> bytes:
    """Key for hashing source ids; kept out of the database on purpose, so a
    copy of the database alone cannot be re-linked to source records."""
    return _file_secret("DASHBOARD_PSEUDONYM_KEY", ".pseudonym_key").encode()
