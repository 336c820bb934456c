"""Configuration from environment variables, with safe defaults.

Secrets never live in the code: SECRET_KEY comes from the environment or is generated
once into the instance folder.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def instance_secret_key(instance_path: str) -> str:
    """Return the instance folder's secret key, creating it (mode 0600) on first use."""
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def from_environment(instance_path: str, secret: bool = True) -> dict:
    """Settings read from the environment; anything unset gets a safe default. The grading
    service asks without ``secret``: it signs nothing, and must not create the key (as root)
    that the web reads."""
    database_url = os.environ.get("DATABASE_URL") or (
        "sqlite:///" + str(Path(instance_path) / "loopback.sqlite3")
    )
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgres://") :]
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]
    # One name per deployment sharing a Redis: the RQ queue and the Socket.IO channel
    # derive from it (pub/sub ignores Redis database numbers).
    deployment = os.environ.get("LOOPBACK_DEPLOYMENT", "").strip() or "loopback"
    return {
        "SECRET_KEY": (os.environ.get("SECRET_KEY") or instance_secret_key(instance_path))
        if secret
        else None,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": os.environ.get("REDIS_URL", ""),
        "DEPLOYMENT": deployment,
        "GRADING_QUEUE": os.environ.get("GRADING_QUEUE") or f"{deployment}-grading",
        "SOCKETIO_CHANNEL": os.environ.get("SOCKETIO_CHANNEL") or f"{deployment}-socketio",
        # "gevent" under `make run`/`make run-scaled` (gunicorn's gevent worker); tests and
        # `flask run` use threads.
        "SOCKETIO_ASYNC_MODE": os.environ.get("SOCKETIO_ASYNC_MODE") or "threading",
        # Open Socket.IO connections one signed-in user may hold in one web process.
        "SOCKETS_PER_USER": _env_int("SOCKETS_PER_USER", 20),
        "GRADING_WORKERS": _env_int("GRADING_WORKERS", 2),
        # "auto": start this process's part of the dispatcher (the web's event relay) with
        # the first request, not for CLI commands.
        "START_GRADING_WORKERS": os.environ.get("START_GRADING_WORKERS", "auto"),
        # The grading service's Unix socket (progress to the web, wake-ups from it).
        "GRADING_SOCKET": os.environ.get("GRADING_SOCKET")
        or str(Path(instance_path) / "grading.sock"),
        # Tests only: grade in threads of this process instead of the grading service.
        "GRADING_IN_PROCESS": os.environ.get("GRADING_IN_PROCESS", "") == "1",
        # The unprivileged user the web runs as when `make run` starts as root.
        "LOOPBACK_USER": os.environ.get("LOOPBACK_USER", "loopback"),
        "MAX_PENDING_SUBMISSIONS": _env_int("MAX_PENDING_SUBMISSIONS", 3),
        "SUBMISSIONS_PER_MINUTE": _env_int("SUBMISSIONS_PER_MINUTE", 10),
        "HEARTBEAT_SECONDS": _env_int("HEARTBEAT_SECONDS", 2),
        "SWEEP_SECONDS": _env_int("SWEEP_SECONDS", 5),
        "STALE_SECONDS": _env_int("STALE_SECONDS", 30),
        # /healthz turns red when the oldest queued submission waited this long.
        "MAX_QUEUE_AGE_SECONDS": _env_int("MAX_QUEUE_AGE_SECONDS", 300),
        # Set it to ask Prometheus for "Authorization: Bearer <token>" on /metrics.
        "METRICS_TOKEN": os.environ.get("METRICS_TOKEN", ""),
        "MAX_GRADING_ATTEMPTS": _env_int("MAX_GRADING_ATTEMPTS", 3),
        "MAX_CODE_BYTES": _env_int("MAX_CODE_BYTES", 64 * 1024),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("SESSION_COOKIE_SECURE", "") == "1",
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": os.environ.get("SESSION_COOKIE_SECURE", "") == "1",
        # Reverse proxies in front of the web whose X-Forwarded-* headers are trusted.
        "PROXY_COUNT": _env_int("PROXY_COUNT", 0),
        "MAX_CONTENT_LENGTH": _env_int("MAX_CONTENT_LENGTH", 1024 * 1024),
        "LANGUAGES": ["en", "zh"],
        "BABEL_DEFAULT_LOCALE": "en",
    }
