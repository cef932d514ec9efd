"""Concurrent signed-in sessions against a running server, for a bounded time.

`cli.py bench --only load` and the concurrency regression test both use
`run_load`: N WebSocket sessions (see wsclient), each signed in as a demo
user, going round the heaviest pages with filters that change from run to
run (so caches miss and figures are worked out while others are), while a
watcher polls `/_stcore/health` and, optionally, an import runs beside them.

Prints (bench) or returns one line:
    bench load sessions=<N> seconds=<S> think_s=<T> page_runs=<n> errors=<n> p50_ms=<..>
    p95_ms=<..> health_checks=<n> health_failures=<n> rss_mb_before=<..>
    rss_mb_peak=<..> rss_mb_after=<..> import=<ok|none|failed>
and, where an import ran, the same runs split by when they started:
    bench load runs before_import=<n> p95_ms=<..> during_import=<n> p95_ms=<..> after_import=<n> p95_ms=<..>
(after: from the import's end, when every figure is worked out afresh for the new data).
"""

from __future__ import annotations

import itertools
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from partnership.wsclient import AppSession, RunFailed, healthy

# The heaviest pages first; each visit asks for a different filter set.
PAGES = ("cohort", "themes", "capacity", "overview")
QUERIES = (
    "",
    "period=2025",
    "locality=east",
    "period=2024&send=send",
    "locality=north&period=2025",
    "care=care_experienced",
    "locality=central&exploitation=cce",
    "period=2023",
)
USERS = ("lead", "board", "manager_east", "manager_central", "manager_north", "admin")


@dataclass
class LoadResult:
    sessions: int
    seconds: float
    think: float = 0.0  # seconds each session waits between clicks (0: clicks again at once)
    page_runs: int = 0
    # Finished runs per session (by its index): a session stuck for good shows as 0.
    runs_by_session: dict[int, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    run_ms: list[float] = field(default_factory=list)
    run_started: list[float] = field(default_factory=list)  # time.monotonic() at each run's start, as run_ms
    import_window: tuple[float, float] | None = None  # monotonic start and end of the side job
    health_checks: int = 0
    health_failures: int = 0
    rss_mb: list[float] = field(default_factory=list)
    import_outcome: str = "none"
    processes: int = 1  # app processes behind the address driven (nginx in front when more than one)

    def line(self) -> str:
        p95 = _p95(self.run_ms)
        ms = sorted(self.run_ms) or [0.0]
        rss = self.rss_mb or [0.0]
        return (
            f"bench load sessions={self.sessions} processes={self.processes} seconds={self.seconds:.0f} "
            f"think_s={self.think:g} "
            f"page_runs={self.page_runs} "
            f"errors={len(self.errors)} p50_ms={statistics.median(ms):.0f} p95_ms={p95:.0f} "
            f"health_checks={self.health_checks} health_failures={self.health_failures} "
            f"rss_mb_before={rss[0]:.0f} rss_mb_peak={max(rss):.0f} rss_mb_after={rss[-1]:.0f} "
            f"import={self.import_outcome}"
        )

    def phases(self) -> str | None:
        """Runs before, during and after the import, with each part's p95."""
        if self.import_window is None:
            return None
        begin, end = self.import_window
        parts: dict[str, list[float]] = {"before_import": [], "during_import": [], "after_import": []}
        for at, ms in zip(self.run_started, self.run_ms, strict=True):
            parts["before_import" if at < begin else "during_import" if at < end else "after_import"].append(ms)
        return "bench load runs " + " ".join(f"{k}={len(v)} p95_ms={_p95(v):.0f}" for k, v in parts.items())


def _p95(values: list[float]) -> float:
    ms = sorted(values) or [0.0]
    return ms[min(len(ms) - 1, int(0.95 * len(ms)))]


def rss_mb(pid: int) -> float:
    """Resident memory of a process, from /proc (0 where there is none)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


def _session_loop(
    base_url: str,
    user: str,
    password: str,
    index: int,
    stop: threading.Event,
    result: LoadResult,
    lock: threading.Lock,
) -> None:
    visits = itertools.islice(itertools.cycle(itertools.product(PAGES, QUERIES)), index * 3, None)
    with lock:
        result.runs_by_session[index] = 0
    try:
        with AppSession(base_url, timeout=120) as app:
            app.sign_in(user, password)
            for page, query in visits:
                if stop.is_set():
                    return
                started = time.monotonic()
                run = app.run(page, query)
                with lock:
                    result.run_started.append(started)
                    result.page_runs += 1
                    result.runs_by_session[index] += 1
                    result.run_ms.append(run.seconds * 1000)
                    result.errors.extend(f"{user} {page}?{query}: {e}" for e in run.exceptions)
                if result.think:
                    stop.wait(result.think)  # a person reads the page before the next click
    except (RunFailed, OSError) as exc:
        with lock:
            result.errors.append(f"{user}: {exc}")


def run_load(
    base_url: str,
    password: str,
    sessions: int,
    seconds: float,
    server_pids: list[int] | None = None,
    side_job: Callable[[], str] | None = None,
    think: float = 0.0,
    side_after: float = 0.0,
) -> LoadResult:
    """Drive `sessions` signed-in sessions for `seconds`; every run must end
    and the health endpoint must answer throughout. `side_job` (an import,
    say) runs once beside them, `side_after` seconds in; its return value is
    the import outcome."""
    result = LoadResult(sessions, seconds, think, processes=len(server_pids or []) or 1)
    lock = threading.Lock()
    stop = threading.Event()

    def memory() -> None:  # every app process together; called under the lock or before the threads
        if server_pids:
            result.rss_mb.append(sum(rss_mb(pid) for pid in server_pids))

    memory()

    def watch() -> None:
        while not stop.is_set():
            ok = healthy(base_url, timeout=5.0)
            with lock:
                result.health_checks += 1
                result.health_failures += 0 if ok else 1
                memory()
            stop.wait(0.5)

    def side() -> None:
        assert side_job is not None
        stop.wait(side_after)  # once the sessions are busy
        begin = time.monotonic()
        try:
            outcome = side_job()
        except Exception as exc:  # the import's own failure is a result, not a crash of the bench
            outcome = f"failed ({exc})"
        with lock:
            result.import_outcome = outcome
            result.import_window = (begin, time.monotonic())

    threads = [
        threading.Thread(
            target=_session_loop,
            args=(base_url, USERS[i % len(USERS)], password, i, stop, result, lock),
            daemon=True,
        )
        for i in range(sessions)
    ]
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    for t in threads:
        t.start()
    side_thread = threading.Thread(target=side, daemon=True) if side_job else None
    if side_thread:
        side_thread.start()
    time.sleep(seconds)
    stop.set()
    # A run in flight may take a while; one that never ends is the failure we look for.
    grace = time.monotonic() + 150
    for t in [*threads, *([side_thread] if side_thread else [])]:
        t.join(timeout=max(0.0, grace - time.monotonic()))
        if t.is_alive():
            result.errors.append("a session or the import was still running 150 s after the end")
    watcher.join(timeout=10)
    memory()
    return result
