"""`make run-scaled` (app/scaled.py) for real: nginx in front of two gevent web processes,
two `flask worker`s, its own PostgreSQL and Redis, under supervisord, which restarts what
dies; the proxy carries pages and WebSockets to either web process."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests
import socketio as socketio_client
import websocket

from tests.helpers import ROOT, descendants, free_port, require, web_user_ids
from tests.jobs.conftest import wait_for
from tests.test_serve import sign_up

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def listening_pid(port: int, among: list[int]) -> int | None:
    """The gunicorn master serving ``port`` (its command line names the bind)."""
    for pid in among:
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        gunicorn = any(c.endswith(b"gunicorn") for c in command)
        if gunicorn and f"127.0.0.1:{port}".encode() in command and b"app.scaled" not in command:
            return pid
    return None


def listening_nginx(among: list[int]) -> int | None:
    for pid in among:
        try:
            if Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"nginx: master"):
                return pid
        except OSError:
            continue
    return None


@pytest.fixture
def scaled_stack():
    require(web_user_ids() is not None, "needs root and the web's user (run `make setup` as root)")
    for tool in ("nginx", "redis-server", str(PG_BIN / "initdb")):
        require(shutil.which(tool) is not None, f"{tool} is missing (make run-scaled installs it)")
    run = Path(tempfile.mkdtemp(prefix="loopback-scaled-"))
    os.chmod(run, 0o755)
    ports = {name: free_port() for name in ("port", "web1", "pg", "redis")}
    ports["web2"] = ports["web1"] + 1
    log = open(run / "out.log", "wb")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [str(ROOT / ".venv/bin/python"), "-m", "app.scaled", "--run-dir", str(run)]
        + ["--port", str(ports["port"]), "--first-web-port", str(ports["web1"])]
        + ["--pg-port", str(ports["pg"]), "--redis-port", str(ports["redis"])]
        + ["--deployment", f"test-{ports['port']}"],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{ports['port']}"
    try:
        wait_for(lambda: _healthy(url), 90, "the scaled stack to be healthy")
        yield process, url, ports
    except AssertionError:
        log.flush()
        raise AssertionError((run / "out.log").read_text(errors="replace")[-3000:]) from None
    finally:
        tree = descendants(process.pid)
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(40)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
        # A grandchild may take a moment to notice its parent's exit (a gunicorn worker,
        # a sandbox launcher): left behind is what is still there after that.
        deadline = time.monotonic() + 10
        while (leftovers := [pid for pid in tree if _alive(pid)]) and time.monotonic() < deadline:
            time.sleep(0.2)
        log.close()
        shutil.rmtree(run, ignore_errors=True)
        assert not leftovers, f"still running after Ctrl-C: {leftovers}"


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def _healthy(url: str) -> bool:
    try:
        return requests.get(url + "/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def test_proxy_spreads_pages_and_sockets_and_supervisord_restarts_a_dead_web(scaled_stack):
    process, url, ports = scaled_stack
    # Healthy with one live worker already: the second may still be starting.
    checks = wait_for(
        lambda: (
            (c := requests.get(url + "/healthz", timeout=5).json()["checks"])["workers"]["live"]
            == 2
            and c
        ),
        30,
        "both workers to beat",
    )
    assert checks["redis"]["ok"] and checks["database"]["ok"]
    session = sign_up(type("Stack", (), {"url": url}), "scaled@example.com")
    cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
    # WebSocket upgrade through nginx, no stickiness: each socket lands on either process.
    socket_url = url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
    for _ in range(4):
        ws = websocket.create_connection(socket_url, cookie=cookie, timeout=10)
        assert ws.recv().startswith("0{")
        ws.close()
    assert requests.get(url + "/metrics", timeout=5).status_code == 404  # not public

    # A page's socket survives a proxy restart: Socket.IO reconnects by itself.
    connects: list[float] = []
    page = socketio_client.Client(http_session=session, reconnection_delay=0.2)
    page.on("connect", lambda: connects.append(time.monotonic()))
    page.connect(url, transports=["websocket"], wait_timeout=10)
    nginx = listening_nginx(descendants(process.pid))
    os.killpg(os.getpgid(nginx), signal.SIGKILL)  # the proxy crashes: master and workers
    wait_for(lambda: len(connects) >= 2, 30, "the page's socket to reconnect through nginx")
    assert listening_nginx(descendants(process.pid)) not in (None, nginx)
    page.disconnect()

    web1 = listening_pid(ports["web1"], descendants(process.pid))
    assert web1 is not None
    os.kill(web1, signal.SIGKILL)  # the master: its gevent worker exits with it
    answers = [session.get(url + "/", timeout=5).status_code for _ in range(20)]
    assert answers == [200] * 20  # nginx skips the dead process
    restarted = wait_for(
        lambda: listening_pid(ports["web1"], descendants(process.pid)),
        30,
        "supervisord to restart the killed web process",
    )
    assert restarted != web1
    wait_for(lambda: _healthy(url), 30, "health after the restart")
