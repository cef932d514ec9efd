"""A Streamlit client at the WebSocket level, as a browser tab is one.

Used by the load bench (`cli.py bench --only load`) and the concurrency
regression test: each `AppSession` is one browser session of a real
`streamlit run` server, so many can be driven from one process without a
browser. It speaks the protocol of the pinned Streamlit: BackMsg protobufs
up `/_stcore/stream`, ForwardMsg protobufs down, a run ending with a
`script_finished` message.

It signs in through the real sign-in form (the widget ids come from the
elements the server sends), so every session is as authenticated as a
person's, and it reports what each run drew: exceptions, errors and texts.
"""

from __future__ import annotations

import time
import urllib.request
from dataclasses import dataclass, field

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

_DONE = {
    ForwardMsg.ScriptFinishedStatus.FINISHED_SUCCESSFULLY,
    ForwardMsg.ScriptFinishedStatus.FINISHED_WITH_COMPILE_ERROR,
}


class RunFailed(RuntimeError):
    """A run did not finish in time, or the connection broke during it."""


@dataclass
class Run:
    """What one script run sent: its elements, in the order they came."""

    seconds: float
    texts: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    inputs: dict[str, str] = field(default_factory=dict)  # label -> widget id
    buttons: dict[str, str] = field(default_factory=dict)  # label -> widget id
    pages: dict[str, str] = field(default_factory=dict)  # url path -> page script hash


def _collect(run: Run, msg: ForwardMsg) -> None:
    kind = msg.WhichOneof("type")
    if kind == "navigation":
        for page in msg.navigation.app_pages:
            run.pages[page.url_pathname] = page.page_script_hash
        return
    if kind != "delta" or msg.delta.WhichOneof("type") != "new_element":
        return
    el = msg.delta.new_element
    what = el.WhichOneof("type")
    if what == "exception":
        run.exceptions.append(f"{el.exception.type}: {el.exception.message}")
    elif what == "alert":
        run.texts.append(el.alert.body)
        if el.alert.format == el.alert.ERROR:
            run.errors.append(el.alert.body)
    elif what == "markdown":
        run.texts.append(el.markdown.body)
    elif what == "heading":
        run.texts.append(el.heading.body)
    elif what == "metric":
        run.texts.append(f"{el.metric.label}: {el.metric.body}")
    elif what == "text_input":
        run.inputs[el.text_input.label] = el.text_input.id
    elif what == "button":
        run.buttons[el.button.label] = el.button.id


class AppSession:
    """One session of a running app. Not thread-safe: one thread per session."""

    def __init__(self, base_url: str, timeout: float = 120.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        ws_url = "ws" + self.base_url.removeprefix("http") + "/_stcore/stream"
        self._ws: ClientConnection = connect(
            ws_url,
            subprotocols=["streamlit"],  # type: ignore[list-item]
            origin=self.base_url,  # type: ignore[arg-type]
            max_size=None,
            open_timeout=timeout,
        )
        self.pages: dict[str, str] = {}

    def close(self) -> None:
        self._ws.close()

    def __enter__(self) -> AppSession:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def run(self, page: str = "", query: str = "", widgets: list[WidgetState] | None = None) -> Run:
        """Ask for a run of `page` (its URL path, '' for the default page) and
        wait until it has finished; reruns the app asks for are followed."""
        back = BackMsg()
        state = back.rerun_script
        state.query_string = query
        state.page_name = page
        if page in self.pages:
            state.page_script_hash = self.pages[page]
        state.widget_states.widgets.extend(widgets or [])
        started = time.perf_counter()
        deadline = started + self.timeout
        run = Run(0.0)
        try:
            self._ws.send(back.SerializeToString())
            while True:
                left = deadline - time.perf_counter()
                if left <= 0:
                    raise RunFailed(f"run of {page or 'the main page'} took over {self.timeout:.0f} s")
                try:
                    raw = self._ws.recv(timeout=left)
                except TimeoutError:
                    continue
                msg = ForwardMsg()
                msg.ParseFromString(raw)  # type: ignore[arg-type]
                _collect(run, msg)
                if msg.WhichOneof("type") == "script_finished" and msg.script_finished in _DONE:
                    break
        except ConnectionClosed as exc:
            raise RunFailed(f"connection closed during a run of {page or 'the main page'}: {exc}") from exc
        run.seconds = time.perf_counter() - started
        self.pages.update(run.pages)
        return run

    def sign_in(self, username: str, password: str) -> Run:
        """Fill in and submit the sign-in form, as a person would."""
        form = self.run()
        if "Username" not in form.inputs or "Sign in" not in form.buttons:
            raise RunFailed("no sign-in form on the first page")
        widgets = [
            WidgetState(id=form.inputs["Username"], string_value=username),
            WidgetState(id=form.inputs["Password"], string_value=password),
            WidgetState(id=form.buttons["Sign in"], trigger_value=True),
        ]
        done = self.run(widgets=widgets)
        if not any(f"Signed in as **{username}**" in t for t in done.texts):
            raise RunFailed(f"sign-in as {username} failed: {done.errors or done.texts[:3]}")
        return done


def healthy(base_url: str, timeout: float = 5.0) -> bool:
    """True when the server's health endpoint answers 'ok' within `timeout`."""
    try:
        with urllib.request.urlopen(f"{base_url.rstrip('/')}/_stcore/health", timeout=timeout) as reply:
            return bool(reply.read() == b"ok")
    except OSError:
        return False
