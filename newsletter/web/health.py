"""Liveness for load balancers and metrics for Prometheus."""

from __future__ import annotations

import os
import time

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy import text

from newsletter.db import get_session

bp = Blueprint("health", __name__)

REQUESTS = Counter(
    "newsletter_http_requests_total", "HTTP requests", ["method", "endpoint", "status"]
)
LATENCY = Histogram("newsletter_http_request_seconds", "HTTP request latency", ["endpoint"])


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """GET /healthz: liveness for load balancers: `{"db": "ok", "broker": "ok"}`.

    200 when both answer; 503 when either does not, its value then saying
    `error: <exception class>`. No login.
    """
    checks = {"db": _check_db(), "broker": _check_broker()}
    healthy = all(v == "ok" for v in checks.values())
    return jsonify(checks), 200 if healthy else 503


def _check_db() -> str:
    try:
        get_session().execute(text("SELECT 1"))
    except Exception as exc:  # any failure means unhealthy; say which
        return f"error: {type(exc).__name__}"
    return "ok"


def _check_broker() -> str:
    celery = current_app.extensions["celery"]
    try:
        with celery.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:  # any failure means unhealthy; say which
        return f"error: {type(exc).__name__}"
    return "ok"


@bp.get("/metrics")
def metrics() -> Response:
    """GET /metrics: the request counters and latency histograms in Prometheus text format,
    summed over every worker process when PROMETHEUS_MULTIPROC_DIR is set. 200; no login.
    """
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Several gunicorn workers: add up what each process recorded.
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
    return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)


def instrument(app: Flask) -> None:
    """Count and time every request by endpoint (not by URL, to keep label sets small)."""

    @app.before_request
    def _start_timer() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def _record(response: Response) -> Response:
        endpoint = request.endpoint or "unknown"
        REQUESTS.labels(request.method, endpoint, str(response.status_code)).inc()
        started = g.get("request_started")
        if started is not None:
            LATENCY.labels(endpoint).observe(time.perf_counter() - started)
        return response
