"""Operations: ``GET /healthz`` for load balancers and supervisors, ``GET /metrics`` for
Prometheus. Both answer without a session, CSRF or language; ``/metrics`` asks for
``Authorization: Bearer $METRICS_TOKEN`` when that is set."""

from __future__ import annotations

import hmac

from flask import Blueprint, Flask, current_app, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from app.ops import health, metrics

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz():
    report = health.report()
    return jsonify(report), 200 if report["ok"] else 503, {"Cache-Control": "no-store"}


@bp.get("/metrics")
def prometheus():
    token = current_app.config["METRICS_TOKEN"]
    if token and not hmac.compare_digest(
        request.headers.get("Authorization", ""), f"Bearer {token}"
    ):
        return "metrics need the bearer token\n", 401, {"Content-Type": "text/plain"}
    metrics = current_app.extensions["metrics"]
    try:
        metrics.read_finished()
    except Exception:  # the scrape still reports what it can (and the queue as unreadable)
        current_app.logger.exception("metrics: reading finished gradings failed")
    body = generate_latest(metrics.registry)
    return body, 200, {"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"}


def init_app(app: Flask) -> None:
    from app.extensions import csrf

    csrf.exempt(bp)
    app.register_blueprint(bp)
    metrics.init_app(app)
