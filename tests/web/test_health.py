"""/healthz reports the database and the broker; /metrics speaks Prometheus."""

from __future__ import annotations

from tests.conftest import make_test_app
from tests.live import free_port


def test_healthz_ok_on_embedded_broker(connection, tmp_path):
    app = make_test_app(connection, tmp_path, BROKER_URL=None)
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.json == {"db": "ok", "broker": "ok"}


def test_healthz_ok_on_redis(connection, tmp_path):
    from tests.conftest import REDIS_URL

    app = make_test_app(connection, tmp_path, BROKER_URL=REDIS_URL, REDIS_URL=REDIS_URL)
    response = app.test_client().get("/healthz")
    assert response.json == {"db": "ok", "broker": "ok"}


def test_healthz_503_when_broker_is_down(connection, tmp_path):
    dead = f"redis://127.0.0.1:{free_port()}/0"
    app = make_test_app(connection, tmp_path, BROKER_URL=dead)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["db"] == "ok"
    assert response.json["broker"].startswith("error")


def test_metrics_count_requests(client):
    client.get("/login")
    body = client.get("/metrics").get_data(as_text=True)
    assert "# TYPE newsletter_http_requests_total counter" in body
    assert 'endpoint="auth.login"' in body
