"""Errors answer in the documented JSON shape to API clients."""

from __future__ import annotations


def test_unknown_api_route_is_json_404(client):
    response = client.get("/api/v1/nope")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"
    assert response.json["error"]["message"]


def test_unknown_route_for_a_json_client(client):
    response = client.get("/nope", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.json == {
        "error": {"code": "not_found", "message": response.json["error"]["message"]}
    }


def test_unknown_route_for_a_browser_is_a_page(client):
    response = client.get("/nope", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "404" in response.get_data(as_text=True)


def test_wrong_method_on_api_is_json_405(client, api_token):
    response = client.delete("/api/v1/categories", headers={"Authorization": f"Bearer {api_token}"})
    assert response.status_code == 405
    assert response.json["error"]["code"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]


def test_security_headers(client):
    response = client.get("/login")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
