"""Prometheus metrics of one web process (scrape each process, as with any gunicorn
worker; ``-w 1`` per process here).

* HTTP requests: counted and timed in this process, by endpoint and status;
* open live-page sockets in this process (the socket gate's count);
* read from the database and Redis at scrape time, the same in every process: queue depth,
  oldest queued age, live grading workers;
* gradings, read from the rows finished since the last scrape (this process's counters
  start at its start, as Prometheus counters do): by verdict, their duration, and the
  sandbox limits their checks hit.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily

from app.models import Submission, db, utcnow
from app.ops.health import oldest_queued_age, queue_depth

# Rows finished in the last moment may not be committed yet: read up to this far back.
COMMIT_LAG = timedelta(seconds=2)
DURATION_BUCKETS = (0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300)


class Metrics:
    def __init__(self, app: Flask):
        self.app = app
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "loopback_http_requests",
            "HTTP requests answered",
            ["method", "endpoint", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "loopback_http_request_duration_seconds",
            "Time to answer an HTTP request",
            ["endpoint"],
            registry=self.registry,
        )
        self.gradings = Counter(
            "loopback_gradings", "Gradings finished by verdict", ["verdict"], registry=self.registry
        )
        self.grading_seconds = Histogram(
            "loopback_grading_duration_seconds",
            "From claim to stored result",
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self.limit_hits = Counter(
            "loopback_sandbox_limit_hits",
            "Checks stopped by a sandbox limit, by limit",
            ["limit"],
            registry=self.registry,
        )
        self.registry.register(_Scraped(self))
        self._since = utcnow() - COMMIT_LAG
        self._lock = threading.Lock()

    def answered(self, method: str, endpoint: str, status: str, seconds: float) -> None:
        self.requests.labels(method, endpoint, status).inc()
        self.latency.labels(endpoint).observe(seconds)

    def read_finished(self) -> None:
        """Count the gradings finished since the last read (before a scrape collects)."""
        with self._lock:
            until = utcnow() - COMMIT_LAG
            rows = db.session.execute(
                sa.select(
                    Submission.verdict,
                    Submission.started_at,
                    Submission.finished_at,
                    Submission.result,
                ).where(Submission.finished_at > self._since, Submission.finished_at <= until)
            ).all()
            self._since = until
        for verdict, started, finished, result in rows:
            self.gradings.labels(verdict or "error").inc()
            if started is not None and finished is not None:
                self.grading_seconds.observe(max(0.0, (finished - started).total_seconds()))
            for limit in _limits_hit(result):
                self.limit_hits.labels(limit).inc()


def _limits_hit(result: dict[str, Any] | None) -> list[str]:
    checks = (result or {}).get("checks") or []
    return [
        str(check["resources"]["limit"])
        for check in checks
        if isinstance(check, dict) and (check.get("resources") or {}).get("limit")
    ]


class _Scraped:
    """Values read when Prometheus asks."""

    def __init__(self, metrics: Metrics):
        self.metrics = metrics

    def describe(self):
        return []

    def collect(self):
        app = self.metrics.app
        gate = app.extensions.get("socket_gate")
        sockets = GaugeMetricFamily(
            "loopback_open_sockets", "Open live-page sockets in this process"
        )
        sockets.add_metric([], gate.total() if gate else 0)
        yield sockets
        with app.app_context():
            try:
                values = {
                    "loopback_queue_depth": ("Submissions waiting for a worker", queue_depth()),
                    "loopback_oldest_queued_seconds": (
                        "Age of the oldest queued submission",
                        oldest_queued_age(),
                    ),
                    "loopback_live_workers": (
                        "Grading workers that beat within STALE_SECONDS",
                        app.extensions["dispatcher"].live_workers(),
                    ),
                }
            except Exception:
                app.logger.exception("metrics: reading the queue failed")
                values = {}
            finally:
                db.session.remove()
        for name, (text, value) in values.items():
            family = GaugeMetricFamily(name, text)
            family.add_metric([], value)
            yield family
        up = GaugeMetricFamily("loopback_queue_readable", "1 when the queue could be read")
        up.add_metric([], 1 if values else 0)
        yield up


def _before() -> None:
    g.metrics_started = time.perf_counter()


def _after(response):
    started = g.pop("metrics_started", None)
    if started is not None:
        metrics: Metrics = current_app.extensions["metrics"]
        elapsed = time.perf_counter() - started
        endpoint = request.endpoint or "unmatched"
        metrics.answered(request.method, endpoint, str(response.status_code), elapsed)
    return response


def init_app(app: Flask) -> None:
    app.extensions["metrics"] = Metrics(app)
    app.before_request(_before)
    app.after_request(_after)
