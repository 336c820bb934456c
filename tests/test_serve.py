"""The process model of `make run` (app/serve.py), tested on the real stack: the grading
service keeps root, nothing that serves HTTP does; grading and validation go through the
service; a killed service is restarted and loses nothing; Ctrl-C stops everything."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
import requests
import socketio as socketio_client

from tests.helpers import csrf_token, descendants, reference_files
from tests.jobs.conftest import SLOW_CLIENT, wait_for

pytestmark = pytest.mark.sandbox

TCP_LISTEN = "0A"


def listening_inodes(port: int) -> set[str]:
    """Inodes of the TCP sockets listening on ``port`` (IPv4 and IPv6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == TCP_LISTEN and int(local.rpartition(":")[2], 16) == port:
                found.add(inode)
    return found


def holders(inodes: set[str]) -> set[int]:
    """Every process with one of these sockets among its open files."""
    wanted = {f"socket:[{inode}]" for inode in inodes}
    pids = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            links = [os.readlink(fd) for fd in (proc / "fd").iterdir()]
        except OSError:
            continue  # gone, or a process we may not look into
        if wanted.intersection(links):
            pids.add(int(proc.name))
    return pids


def status(pid: int) -> dict[str, str]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return dict(line.split(":\t", 1) for line in lines if ":\t" in line)


def uids(pid: int) -> set[int]:
    """Real, effective, saved and filesystem uids."""
    return {int(uid) for uid in status(pid)["Uid"].split()}


def sign_up(stack, email: str) -> requests.Session:
    session = requests.Session()
    page = session.get(stack.url + "/auth/register").text
    response = session.post(
        stack.url + "/auth/register",
        data={
            "csrf_token": csrf_token(page),
            "email": email,
            "password": "correct horse",
            "confirm": "correct horse",
        },
        allow_redirects=False,
    )
    assert response.status_code in (302, 303), response.text[:500]
    session.headers["X-CSRFToken"] = csrf_token(session.get(stack.url + "/").text)
    return session


def submit(stack, session: requests.Session, files: dict[str, str]) -> int:
    response = session.post(stack.url + "/questions/tcp-echo/submissions", json={"files": files})
    assert response.status_code == 202, response.text[:500]
    return response.json()["id"]


def submission(stack, session: requests.Session, submission_id: int) -> dict:
    return session.get(f"{stack.url}/submissions/{submission_id}.json").json()


def test_no_process_serving_http_runs_as_root(stack):
    web_uid = stack.web_user[0]
    assert web_uid != 0
    sockets = listening_inodes(stack.port)
    assert sockets, "nothing listens on the port"
    serving = holders(sockets)
    # The gunicorn master and its worker hold it; the supervisor closed its copy.
    assert len(serving) >= 2 and stack.process.pid not in serving
    for pid in serving:
        assert uids(pid) == {web_uid}, (pid, status(pid)["Uid"])
        assert status(pid)["CapEff"] == "0000000000000000" and status(pid)["NoNewPrivs"] == "1"
    # Everything under the web (the master's workers) is unprivileged too; the grading
    # service is the one root process, and it holds no TCP listener.
    children = stack.children()
    assert set(children) == {"service", "web"}
    for pid in [children["web"], *descendants(children["web"])]:
        assert uids(pid) == {web_uid}
    assert uids(children["service"]) == {0}
    assert children["service"] not in serving
    # The channel between them: root's socket, usable by the web's group only.
    channel = os.stat(stack.folder / "grading.sock")
    assert (channel.st_uid, channel.st_gid) == (0, stack.web_user[1])
    assert channel.st_mode & 0o777 == 0o660


def test_grading_from_the_web_goes_through_the_service(stack, app):
    session = sign_up(stack, "stack@example.com")
    received: list[dict] = []
    watcher = socketio_client.Client(http_session=session)
    watcher.on("submission", lambda data: received.append(data))
    watcher.connect(stack.url, transports=["websocket"], wait_timeout=10)
    try:
        submission_id = submit(stack, session, reference_files(app, "tcp-echo"))
        watcher.emit("watch", {"id": submission_id})
        result = wait_for(
            lambda: (
                (r := submission(stack, session, submission_id))["status"] in ("done", "error")
                and r
            ),
            90,
            "the service to grade it",
        )
        assert result["verdict"] == "passed", result
        wait_for(
            lambda: any(r.get("event") == "finished" for r in received),
            10,
            "the service's events to reach the browser through the web",
        )
    finally:
        watcher.disconnect()
    events = [r["event"] for r in received if r["id"] == submission_id]
    assert events.count("check_finished") == len(result["checks"]) > 0
    assert events[-1] == "finished"


def test_a_killed_service_is_restarted_and_its_submission_finishes(stack):
    session = sign_up(stack, "restart@example.com")
    first = stack.children()["service"]
    submission_id = submit(stack, session, {"client": SLOW_CLIENT})
    wait_for(
        lambda: submission(stack, session, submission_id)["status"] == "running",
        60,
        "the grading to start",
    )
    os.kill(first, signal.SIGKILL)
    second = wait_for(
        lambda: (pid := stack.children().get("service")) not in (None, first) and pid,
        30,
        "the supervisor to start a new service",
    )
    assert uids(second) == {0}
    result = wait_for(
        lambda: (
            (r := submission(stack, session, submission_id))["status"] in ("done", "error") and r
        ),
        120,
        "the new service to grade it again",
    )
    assert result["status"] == "done" and result["verdict"] == "passed", stack.output()[-5000:]
    assert "exited with status -9" in stack.output()
    assert stack.children()["web"]  # the web kept serving


def test_validation_runs_in_the_service(stack):
    stack.create_user("teacher@example.com", "teacher-password", "instructor")
    session = requests.Session()
    page = session.get(stack.url + "/auth/login").text
    session.post(
        stack.url + "/auth/login",
        data={
            "csrf_token": csrf_token(page),
            "email": "teacher@example.com",
            "password": "teacher-password",
        },
    )
    studio = session.get(stack.url + "/instructor/questions/udp-echo").text
    queued = session.post(
        stack.url + "/instructor/questions/udp-echo/validate",
        data={"csrf_token": csrf_token(studio)},
        allow_redirects=False,
    )
    assert queued.status_code == 303
    url = stack.url + "/instructor/questions/udp-echo/validation.json"
    assert session.get(url).json()["state"] == "running"  # the request did not grade
    # The web cannot run the sandbox (it is not root): a pass is the service's doing.
    progress = wait_for(
        lambda: (body := session.get(url).json())["finished"] and body, 90, "the validation"
    )
    assert progress["state"] == "passing" and progress["publishable"], progress
    page = session.get(stack.url + "/instructor/questions/udp-echo").text
    assert "Validation passed for version" in page


def test_ctrl_c_stops_the_web_and_the_service(stack):
    children = stack.children()
    tree = descendants(stack.process.pid)
    assert children["service"] in tree and children["web"] in tree
    stack.process.send_signal(signal.SIGINT)
    assert stack.process.wait(40) == 0
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() for p in tree):
        time.sleep(0.1)
    assert not [p for p in tree if Path(f"/proc/{p}").exists()]
    assert not listening_inodes(stack.port)
