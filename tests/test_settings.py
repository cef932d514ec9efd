"""Keys made on first use: one key however many sessions ask at once."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest

from partnership import settings


def test_sessions_racing_on_a_fresh_server_all_get_the_same_private_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A fresh server's first eight sessions once raced here: the losers hit
    # FileExistsError and were shown an error page instead of the sign-in form.
    monkeypatch.setattr(settings, "DATA_DIR", tmp_path)
    monkeypatch.delenv("DASHBOARD_COOKIE_KEY", raising=False)
    barrier = threading.Barrier(8)
    keys: list[str] = []
    errors: list[BaseException] = []

    def ask() -> None:
        barrier.wait()
        try:
            keys.append(settings.cookie_key())
        except BaseException as exc:  # any failure is what this test reports
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(keys) == 8 and len(set(keys)) == 1 and len(keys[0]) == 64
    key_file = tmp_path / ".cookie_key"
    assert key_file.read_text() == keys[0]
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == [".cookie_key"]  # no temporary file left behind


def test_an_empty_key_file_is_named_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "DATA_DIR", tmp_path)
    monkeypatch.delenv("DASHBOARD_PSEUDONYM_KEY", raising=False)
    (tmp_path / ".pseudonym_key").write_text("")
    with pytest.raises(ValueError, match=r"\.pseudonym_key is empty"):
        settings.pseudonym_key()
