"""Deployments sharing one Redis name their own RQ queue and Socket.IO channel (pub/sub
ignores Redis database numbers)."""

from __future__ import annotations

from app import config
from app.extensions import socketio
from tests.helpers import REDIS_URL, make_app


def test_names_derive_from_the_deployment(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "x")
    monkeypatch.delenv("GRADING_QUEUE", raising=False)
    monkeypatch.delenv("SOCKETIO_CHANNEL", raising=False)
    monkeypatch.delenv("LOOPBACK_DEPLOYMENT", raising=False)
    default = config.from_environment(str(tmp_path))
    assert (default["GRADING_QUEUE"], default["SOCKETIO_CHANNEL"]) == (
        "loopback-grading",
        "loopback-socketio",
    )
    monkeypatch.setenv("LOOPBACK_DEPLOYMENT", "staging")
    staging = config.from_environment(str(tmp_path))
    assert (staging["GRADING_QUEUE"], staging["SOCKETIO_CHANNEL"]) == (
        "staging-grading",
        "staging-socketio",
    )
    monkeypatch.setenv("SOCKETIO_CHANNEL", "explicit")
    assert config.from_environment(str(tmp_path))["SOCKETIO_CHANNEL"] == "explicit"


def test_socketio_publishes_on_the_deployment_channel(tmp_path):
    make_app(tmp_path, "sqlite://", REDIS_URL=REDIS_URL, SOCKETIO_CHANNEL="blue-socketio")
    assert socketio.server.manager.channel == "blue-socketio"
    make_app(tmp_path, "sqlite://")  # leave the shared SocketIO object without a queue
