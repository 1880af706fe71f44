"""The host-side commands through a real shell, wrapped the way the NixOS driver wraps them
(``bash -c 'set -euo pipefail; ...'``): proves the quoting and the bash /dev/tcp HTTP client
against a real HTTP server on loopback, with no VM."""

import http.server
import shutil
import subprocess
import threading

import pytest

from harness.checks import Session, Topology

pytestmark = pytest.mark.skipif(
    not (shutil.which("bash") and shutil.which("timeout")), reason="needs bash and timeout"
)


class LocalMachine:
    """Runs commands on this machine like the driver runs them in the VM."""

    def execute(self, command, check_return=True, check_output=True, timeout=900):
        proc = subprocess.run(
            ["timeout", str(timeout), "bash", "-c", f"set -euo pipefail; {command}"],
            capture_output=True,
            text=True,
            check=False,
        )
        return proc.returncode, proc.stdout


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"you asked for {self.path}".encode()
        self.send_response(200 if self.path.startswith("/ok") else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def port():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()


@pytest.fixture
def session(tmp_path):
    return Session(LocalMachine(), Topology(()), tmp_path, timeout=1)


def test_http_through_bash_dev_tcp(session, port):
    result = session.check(
        "h",
        "http",
        {
            "from": "host",
            "to": "host",
            "port": port,
            "path": '/ok/it\'s-"quoted"?$HOME`id`',
            "body": 'asked for /ok/it\'s-"quoted"?$HOME`id`',
        },
    )
    assert result.ok, result.message


def test_http_wrong_status(session, port):
    result = session.check(
        "h", "http", {"from": "host", "to": "host", "port": port, "path": "/missing"}
    )
    assert result.message.startswith(
        f"expected GET http://127.0.0.1:{port}/missing from host to answer status 200; "
        "saw status 404, body 'you asked for /missing'"
    )


def test_tcp_open_and_closed(session, port):
    assert session.check("t", "tcp", {"from": "host", "to": "host", "port": port}).ok
    closed = session.check("t", "tcp", {"from": "host", "to": "host", "port": 1})
    assert not closed.ok
    assert "Connection refused" in closed.message


def test_command_quoting_and_stderr(session):
    result = session.check(
        "c",
        "command",
        {
            "run": "printf '%s\\n' \"it's\" && echo oops >&2 && exit 3",
            "exit": 3,
            "output": "it's\noops",
        },
    )
    assert result.ok, result.message


def test_marker_probe_script(session):
    script = (
        'set -- / /nonexistent; for p do if [ -e "$p" ]; then echo "present $p"; '
        'else echo "absent $p"; fi; done'
    )
    result = session.check(
        "c", "command", {"run": script, "output": "present /\nabsent /nonexistent"}
    )
    assert result.ok, result.message
