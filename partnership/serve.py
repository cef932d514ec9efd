"""Run the dashboard for a partnership: several app processes on one
database, behind nginx. `scripts/serve` calls this.

    python -m partnership.serve [--processes 2] [--port 8080] [--first-app-port 8601]
                                [--host 0.0.0.0] [--no-restart] [--run-dir data/serve]

Why this shape: Streamlit keeps each browser tab's session in the memory of
one process, over one WebSocket, so a process can serve only so many people
at once (about ten clicking every few seconds with a page run's p95 under a
second on a 2-core machine, measured by `cli.py bench --only load --think 5`).
More people need more processes, and a proxy in front that keeps each tab on
its process (session affinity) and moves it to another when that process stops. Everything a session needs beyond its
WebSocket is in the database (sessions, data versions, settings) or derived
from it (the columnar copy, per cohort version), so any process can take any
tab over; the cookie key and Streamlit's own cookie secret are the same for
every process.

Affinity: nginx (the open-source build has no sticky cookies) hashes a
routing cookie, `tsd_route`, that it sets itself on the first response. The
page, its WebSocket and its uploads then reach the same process; when that
process stops, nginx marks it down and the same hash falls to another
(`hash ... consistent` moves only the tabs of the process that went).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from partnership.settings import DATA_DIR, ROOT, cookie_key, get_settings, pseudonym_key
from partnership.wsclient import healthy

NGINX_CONF = """\
# Written by partnership/serve.py for this run; edit that, not this.
worker_processes auto;
pid {run}/nginx.pid;
error_log {run}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    log_format combined_upstream '$remote_addr [$time_local] "$request" $status '
                                 'upstream=$upstream_addr route=$cookie_tsd_route';
    access_log {run}/access.log combined_upstream;
    client_body_temp_path {run}/body;
    proxy_temp_path {run}/proxy;
    fastcgi_temp_path {run}/fastcgi;
    uwsgi_temp_path {run}/uwsgi;
    scgi_temp_path {run}/scgi;
    client_max_body_size {upload_mb}m;

    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    # The routing cookie: kept if the browser has one, else made from this request's id.
    map $cookie_tsd_route $tsd_route {{ '' $request_id; default $cookie_tsd_route; }}
    map $cookie_tsd_route $tsd_route_cookie {{
        '' "tsd_route=$request_id; Path=/; HttpOnly; SameSite=Strict";
        default '';
    }}

    upstream dashboard {{
        hash $tsd_route consistent;
{servers}
    }}

    server {{
        listen {host}:{port};
        location / {{
            proxy_pass http://dashboard;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_read_timeout 1d;
            proxy_send_timeout 1d;
            proxy_buffering off;
            proxy_request_buffering off;
            # A process that has stopped: try the next (the tab's session moves with its cookie).
            proxy_next_upstream error timeout http_502 http_503;
            proxy_connect_timeout 2s;
            add_header Set-Cookie $tsd_route_cookie always;
            add_header X-Served-By $upstream_addr always;
        }}
    }}
}}
"""


@dataclass
class App:
    port: int
    log: Path
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    started_at: float = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(ROOT / "dashboard.py"),
            "--server.port",
            str(self.port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
        ]
        self.proc = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=self.log.open("ab"), stderr=subprocess.STDOUT
        )
        self.started_at = time.monotonic()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.alive():
            assert self.proc is not None
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def shared_env(database_url: str | None = None) -> dict[str, str]:
    """What every app process is given alike: the database, both keys (read
    once here, so no process makes a key of its own) and Streamlit's cookie
    secret (its XSRF token must check out on whichever process a request reaches)."""
    settings = get_settings()
    key = cookie_key(os.environ.get("DASHBOARD_COOKIE_KEY"))
    return {
        **os.environ,
        "DATABASE_URL": database_url or settings.database_url,
        "DASHBOARD_COOKIE_KEY": key,
        "DASHBOARD_PSEUDONYM_KEY": pseudonym_key().decode(),
        "STREAMLIT_SERVER_COOKIE_SECRET": hashlib.sha256(f"streamlit-xsrf:{key}".encode()).hexdigest(),
        "DASHBOARD_SNAPSHOT_DIR": os.environ.get("DASHBOARD_SNAPSHOT_DIR") or str(DATA_DIR / "snapshots"),
    }


@dataclass
class Deployment:
    processes: int
    port: int
    first_app_port: int
    host: str
    run: Path
    restart: bool = True
    database_url: str | None = None  # default: DATABASE_URL
    apps: list[App] = field(default_factory=list)
    nginx: subprocess.Popen[bytes] | None = None

    def nginx_conf(self) -> str:
        servers = "\n".join(f"        server 127.0.0.1:{app.port} max_fails=1 fail_timeout=10s;" for app in self.apps)
        return NGINX_CONF.format(
            run=self.run, servers=servers, host=self.host, port=self.port, upload_mb=get_settings().max_file_mb + 1
        )

    def start(self) -> None:
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        if not Path(nginx).exists():
            raise SystemExit("nginx is not installed (Debian package nginx)")
        self.run.mkdir(parents=True, exist_ok=True)
        env = shared_env(self.database_url)
        self.apps = [
            App(self.first_app_port + i, self.run / f"app-{self.first_app_port + i}.log", env)
            for i in range(self.processes)
        ]
        for app in self.apps:
            app.start()
        deadline = time.monotonic() + 120
        while not all(healthy(app.url) for app in self.apps):
            if time.monotonic() > deadline or not all(app.alive() for app in self.apps):
                self.stop()
                raise SystemExit(f"an app process did not start; see {self.run}/app-*.log")
            time.sleep(0.3)
        (self.run / "nginx.conf").write_text(self.nginx_conf())
        self.nginx = subprocess.Popen(
            [nginx, "-p", str(self.run), "-c", str(self.run / "nginx.conf"), "-g", "daemon off;"],
            stdout=(self.run / "nginx.out").open("ab"),
            stderr=subprocess.STDOUT,
        )
        front = f"http://{'127.0.0.1' if self.host in ('0.0.0.0', '') else self.host}:{self.port}"
        deadline = time.monotonic() + 30
        while not healthy(front):
            if time.monotonic() > deadline or self.nginx.poll() is not None:
                self.stop()
                raise SystemExit(f"nginx did not start; see {self.run}/error.log and nginx.out")
            time.sleep(0.2)
        apps = ", ".join(str(app.port) for app in self.apps)
        print(f"serving on http://{self.host}:{self.port} (app processes on 127.0.0.1 ports {apps})", flush=True)

    def watch(self, stop: list[bool]) -> None:
        """Say when an app process stops or stops answering /_stcore/health
        three times running (nginx sends its tabs elsewhere meanwhile), and
        start it again unless told not to, until told to stop."""
        down: set[int] = set()
        failures = dict.fromkeys((app.port for app in self.apps), 0)
        tick = 0
        while not stop:
            time.sleep(0.5)
            tick += 1
            for app in self.apps:
                if app.port in down or stop:
                    continue
                starting = time.monotonic() - app.started_at < 60  # a fresh process gets a minute to start
                if app.alive() and tick % 10 == 0 and not starting:  # every 5 s: alive is not enough, it must answer
                    failures[app.port] = 0 if healthy(app.url, timeout=5) else failures[app.port] + 1
                    if failures[app.port] >= 3:
                        print(f"app process on port {app.port} does not answer its health check", flush=True)
                        app.stop()
                if app.alive():
                    continue
                failures[app.port] = 0
                if self.restart:
                    app.restarts += 1
                    print(f"app process on port {app.port} stopped; starting it again", flush=True)
                    app.start()
                else:
                    down.add(app.port)
                    print(f"app process on port {app.port} stopped; nginx sends its people to the others", flush=True)
            if self.nginx is not None and self.nginx.poll() is not None and not stop:
                print("nginx stopped; stopping the app processes", flush=True)
                break

    def stop(self) -> None:
        if self.nginx is not None and self.nginx.poll() is None:
            self.nginx.terminate()
            self.nginx.wait(timeout=20)
        for app in self.apps:
            app.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/serve", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--processes", type=int, default=2, help="app processes (one or two per core)")
    parser.add_argument("--port", type=int, default=8080, help="the port people use (nginx)")
    parser.add_argument("--host", default="0.0.0.0", help="address nginx listens on")
    parser.add_argument(
        "--first-app-port", type=int, default=8601, help="app processes use this port and the next ones"
    )
    parser.add_argument("--run-dir", default=str(DATA_DIR / "serve"), help="nginx config, logs and temp files")
    parser.add_argument("--no-restart", action="store_true", help="leave a stopped app process stopped")
    args = parser.parse_args(argv)
    if get_settings().is_sqlite:
        print(
            "note: DATABASE_URL is SQLite; several processes on one machine can share it, "
            "but a partnership deployment should use PostgreSQL",
            flush=True,
        )
    deployment = Deployment(
        args.processes, args.port, args.first_app_port, args.host, Path(args.run_dir).resolve(), not args.no_restart
    )
    stop: list[bool] = []

    def on_signal(_signum: int, _frame: object) -> None:
        stop.append(True)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    deployment.start()
    try:
        deployment.watch(stop)
    finally:
        deployment.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
