"""The partnership deployment, as started by scripts/serve: PostgreSQL, two
app processes and nginx on loopback, used in Chromium through nginx.

An import through the command line is seen on both processes; the process
serving a manager is stopped and the manager's next click is served by the
other, still signed in; a backup, a change and a restore leave the data as
backed up. Needs nginx (Debian package); with CI=true its absence fails."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from browser_support import WAIT, idle, sign_in
from conftest import (
    CHROMIUM,
    PG_URL,
    ROOT,
    Server,
    _free_port,
    _missing,
    import_seven_open_seventeen_year_olds,
    seed_small,
)
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import create_engine, text

from models.db import get_engine

pytestmark = pytest.mark.browser
OPEN = "Open to children's services aged 16-17"
NGINX = "/usr/sbin/nginx"


@dataclass
class Deployment:
    url: str  # nginx
    apps: list[str]  # each app process, directly
    db: str
    proc: subprocess.Popen[str]
    out: Path  # what scripts/serve printed


def _scratch_database() -> Iterator[str]:
    admin = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    name = f"tsd_scale_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"{PG_URL.rsplit('/', 1)[0]}/{name}"
    yield url
    get_engine(url).dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    if not Path(NGINX).exists():
        _missing("nginx is not installed (Debian package nginx)")
    if not PG_URL:
        _missing("TEST_POSTGRES_URL is not set")
    if not Path(CHROMIUM).exists():
        _missing(f"Chromium not found at {CHROMIUM}")
    tmp = tmp_path_factory.mktemp("scaleout")
    databases = _scratch_database()
    db = next(databases)
    seed_small(db, 400, 8)
    port, first = _free_port(), _free_port()
    second = first + 1 if first < 65000 else first - 1
    env = {
        **os.environ,
        "DATABASE_URL": db,
        "DASHBOARD_SNAPSHOT_DIR": str(tmp / "snapshots"),
        "DASHBOARD_COOKIE_KEY": "scale-out-test-key-" + "z" * 30,
    }
    log = tmp / "serve.out"
    # What scripts/serve runs once the virtual environment is in place.
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "partnership.serve",
            "--processes",
            "2",
            "--port",
            str(port),
            "--host",
            "127.0.0.1",
            "--first-app-port",
            str(min(first, second)),
            "--run-dir",
            str(tmp / "run"),
            "--no-restart",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_for(lambda: "serving on" in log.read_text() or proc.poll() is not None, 150)
        assert proc.poll() is None, log.read_text()[-3000:]
        ports = re.search(r"ports (\d+), (\d+)", log.read_text())
        assert ports, log.read_text()
        yield Deployment(f"http://127.0.0.1:{port}", [f"http://127.0.0.1:{p}" for p in ports.groups()], db, proc, log)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        next(databases, None)


def _wait_for(condition: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.2)


def _served_by(page: Page, base: str) -> str:
    """The app process nginx sends this browser to (its routing cookie decides)."""
    reply = page.request.get(base + "/_stcore/health")
    assert reply.ok
    return "http://" + reply.headers["x-served-by"]


def _open_metric(page: Page) -> int:
    card = page.locator('[data-testid="stMetric"]').filter(has_text=OPEN)
    value = card.locator('[data-testid="stMetricValue"]')
    expect(value).to_have_text(re.compile(r"^[\d,]+$"), timeout=WAIT)
    return int(value.inner_text().replace(",", ""))


def _signed_in(browser: Browser, url: str, username: str) -> Page:
    page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    page.set_default_timeout(WAIT)
    sign_in(page, Server(url, None, Path()), username)  # type: ignore[arg-type]
    return page


def _on_each_process(browser: Browser, deployment: Deployment, signed: Page, username: str) -> list[int]:
    """The Overview's figure as each app process shows it to this person, opened directly."""
    cookies = signed.context.cookies()
    values = []
    for app in deployment.apps:
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        context.add_cookies(cookies)
        page = context.new_page()
        page.goto(app + "/")
        expect(page.get_by_text(f"Signed in as {username}")).to_be_visible(timeout=WAIT)
        values.append(_open_metric(page))
        context.close()
    return values


def _cli(deployment: Deployment, *args: str) -> str:
    env = {**os.environ, "DATABASE_URL": deployment.db}
    done = subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_an_import_through_the_command_line_is_seen_on_both_processes(
    browser: Browser, deployment: Deployment, tmp_path: Path
) -> None:
    lead = _signed_in(browser, deployment.url, "lead")
    before = _on_each_process(browser, deployment, lead, "lead")
    assert before[0] == before[1]
    board = _signed_in(browser, deployment.url, "board")
    published = _on_each_process(browser, deployment, board, "board")
    import_seven_open_seventeen_year_olds(deployment.db, tmp_path, "a")
    # The lead's next click on either process shows the new figure: seven more.
    assert _on_each_process(browser, deployment, lead, "lead") == [before[0] + 7] * 2
    # The board's figures move when they are published, on every process at once, not at the import.
    assert _on_each_process(browser, deployment, board, "board") == published
    assert "Figures published on" in _cli(deployment, "publish")
    assert _on_each_process(browser, deployment, board, "board") == [published[0] + 7] * 2


def test_backup_change_restore_leaves_the_data_as_backed_up(
    browser: Browser, deployment: Deployment, tmp_path: Path
) -> None:
    lead = _signed_in(browser, deployment.url, "lead")
    backed_up = _open_metric(lead)
    file = tmp_path / "partnership.backup"
    assert _cli(deployment, "backup", "--out", str(file)).startswith("backup written")
    import_seven_open_seventeen_year_olds(deployment.db, tmp_path, "b")
    lead.reload()
    assert _open_metric(lead) == backed_up + 7
    assert "restored" in _cli(deployment, "restore", str(file))
    # Everyone signs in again after a restore; then the figure is the one backed up.
    lead.reload()
    expect(lead.get_by_role("textbox", name="Username")).to_be_visible(timeout=WAIT)
    again = _signed_in(browser, deployment.url, "lead")
    assert _open_metric(again) == backed_up


def test_a_stopped_process_hands_its_people_to_the_other_still_signed_in(
    browser: Browser, deployment: Deployment
) -> None:
    manager = _signed_in(browser, deployment.url, "manager_east")
    board = _signed_in(browser, deployment.url, "board")
    serving = _served_by(manager, deployment.url)
    assert serving in deployment.apps
    other = next(app for app in deployment.apps if app != serving)

    # Stop the manager's process (as a crash or a redeploy would).
    found = subprocess.run(
        ["pgrep", "-f", "--", f"server.port {serving.rsplit(':', 1)[1]}"], capture_output=True, text=True
    )
    pid = int(found.stdout.split()[0])
    os.kill(pid, 15)
    port = serving.rsplit(":", 1)[1]
    _wait_for(lambda: f"app process on port {port} stopped" in deployment.out.read_text(), 30)

    # The manager's next click: Streamlit reconnects through nginx, which sends it to the other process.
    heading = manager.get_by_role("heading", name="Team capacity").first
    for _attempt in range(5):  # a click made while the page is still reconnecting is dropped; click again
        manager.wait_for_timeout(1500)
        manager.locator('[data-testid="stSidebar"] a', has_text="Team capacity").click()
        try:
            expect(heading).to_be_visible(timeout=10_000)
            break
        except AssertionError:
            continue
    expect(heading).to_be_visible(timeout=WAIT)
    expect(manager.get_by_text("Signed in as manager_east")).to_be_visible(timeout=WAIT)
    expect(manager.get_by_text("Please sign in")).to_have_count(0)
    assert _served_by(manager, deployment.url) == other
    # Whoever was on the other process already did not notice.
    board.locator('[data-testid="stSidebar"] a', has_text="Overview").click()
    expect(board.get_by_text("Signed in as board")).to_be_visible(timeout=WAIT)
    assert _open_metric(board) > 0


def idle_or_reconnecting(page: Page) -> None:
    """After its process stops, the page shows Streamlit's connection notice
    and reconnects by itself; wait until it has."""
    page.wait_for_timeout(1000)
    expect(page.get_by_text("Signed in as")).to_be_visible(timeout=WAIT)
    idle(page)
