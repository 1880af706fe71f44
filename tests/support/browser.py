"""Headless Chromium driven over the DevTools protocol, for the manual's browser test.

The protocol runs over a pipe (``--remote-debugging-pipe``: fd 3 carries commands, fd 4 answers
and events, each message JSON ended by a NUL byte), so no port and no websocket client is
needed. Chromium starts with the flags a closed network needs and a fresh profile. Every request
that is not for a loopback address goes through ``--proxy-server`` to :class:`RecordingProxy`,
which notes it and refuses it: a test proves that nothing left the machine by finding the
proxy's list empty. :class:`SiteServer` serves a directory on 127.0.0.1 at a random port.
"""

from __future__ import annotations

import base64
import fcntl
import functools
import http.server
import json
import os
import queue
import shutil
import socketserver
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,900",
    # Chromium's own services, which the flags above leave on: the proxy would see them.
    "--disable-extensions",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--disable-field-trial-config",
    "--no-pings",
    "--disable-features=AutofillServerCommunication,OptimizationHints,OptimizationGuideModelDownloading,Translate,MediaRouter,DialMediaRouteProvider,CertificateTransparencyComponentUpdater,NetworkTimeServiceQuerying",
)


def chromium_binary() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def site_server(directory: Path) -> Iterator[str]:
    """Serve ``directory`` on 127.0.0.1 at a free port; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class RecordingProxy:
    """An HTTP proxy on 127.0.0.1 that answers every request with 403 and records its first
    line (``CONNECT host:443 ...`` or ``GET http://... ``)."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                self.request.settimeout(5)
                try:
                    line = self.request.makefile("rb").readline(4096)
                except OSError:
                    line = b"(unreadable)"
                proxy.requests.append(line.decode("latin-1").strip())
                self.request.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class ProtocolError(RuntimeError):
    pass


class Chromium:
    """One headless Chromium with one page, attached over the DevTools pipe."""

    def __init__(self, binary: str, profile: Path, proxy_port: int) -> None:
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()
        # Above 10, so that placing them at 3 and 4 in the child cannot clobber either.
        command_fd = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10)
        answer_fd = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
        os.close(to_chrome_r)
        os.close(from_chrome_w)

        def place_pipes() -> None:
            os.dup2(command_fd, 3)
            os.dup2(answer_fd, 4)

        self.process = subprocess.Popen(
            [
                binary,
                *FLAGS,
                f"--user-data-dir={profile}",
                f"--proxy-server=http://127.0.0.1:{proxy_port}",
                "--remote-debugging-pipe",
                "about:blank",
            ],
            # Placed after the fork; closing the other descriptors (close_fds) would happen
            # after that and take 3 and 4 too. Python opens every descriptor non-inheritable,
            # so nothing else leaks into Chromium.
            close_fds=False,
            preexec_fn=place_pipes,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(command_fd)
        os.close(answer_fd)
        self._next_id = 0
        self._messages: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.events: list[dict[str, Any]] = []
        threading.Thread(target=self._read, daemon=True).start()
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable", session=self.session)

    def _read(self) -> None:
        buffer = b""
        while chunk := os.read(self._from_chrome, 1 << 16):
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            for message in messages:
                self._messages.put(json.loads(message))
        self._messages.put(None)

    def _next(self, deadline: float) -> dict[str, Any]:
        try:
            message = self._messages.get(timeout=max(deadline - time.monotonic(), 0.01))
        except queue.Empty:
            raise ProtocolError("Chromium did not answer in time") from None
        if message is None:
            raise ProtocolError("Chromium closed the DevTools pipe")
        return message

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        """Send one command and wait for its answer; events that arrive meanwhile are kept."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + 30
        while True:
            answer = self._next(deadline)
            if answer.get("id") != self._next_id:
                self.events.append(answer)
                continue
            if "error" in answer:
                raise ProtocolError(f"{method}: {answer['error']}")
            result: dict[str, Any] = answer.get("result", {})
            return result

    def wait_for(self, method: str, timeout: float = 20) -> dict[str, Any]:
        """The next event ``method`` of the page (events already kept count)."""
        deadline = time.monotonic() + timeout
        for index, event in enumerate(self.events):
            if event.get("method") == method:
                return self.events.pop(index)
        while True:
            event = self._next(deadline)
            if event.get("method") == method:
                return event
            self.events.append(event)

    def open(self, url: str) -> list[dict[str, Any]]:
        """Load ``url`` in the page; returns the events from the navigation to the load."""
        self.events.clear()
        self.call("Page.navigate", session=self.session, url=url)
        self.wait_for("Page.loadEventFired")
        events = list(self.events)
        self.events.clear()
        return events

    def evaluate(self, expression: str) -> Any:
        result = self.call(
            "Runtime.evaluate",
            session=self.session,
            expression=expression,
            returnByValue=True,
            awaitPromise=True,
        )
        if "exceptionDetails" in result:
            raise ProtocolError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path: Path) -> Path:
        data = self.call("Page.captureScreenshot", session=self.session, format="png")["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        with suppress(ProtocolError, OSError):
            self.call("Browser.close")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_chrome)


def errors_of(events: list[dict[str, Any]]) -> list[str]:
    """The console errors, uncaught exceptions and failed loads among a page's events."""
    found = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.exceptionThrown":
            found.append(json.dumps(params["exceptionDetails"])[:500])
        elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
            found.append(json.dumps(params.get("args"))[:500])
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            found.append(f"{params['entry'].get('text')} {params['entry'].get('url', '')}")
        elif method == "Network.loadingFailed" and not params.get("canceled"):
            found.append(f"loading failed: {params.get('errorText')}")
    return found


def requested_urls(events: list[dict[str, Any]]) -> list[str]:
    return [
        event["params"]["request"]["url"]
        for event in events
        if event.get("method") == "Network.requestWillBeSent"
    ]
