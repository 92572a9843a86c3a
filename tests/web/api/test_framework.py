"""The typed API layer: bearer auth, JSON errors, validation, and the generated document."""

from __future__ import annotations

import pytest
from flask import Blueprint
from pydantic import BaseModel, Field

from newsletter.extensions import csrf
from newsletter.web.api.framework import Api


class Greeting(BaseModel):
    name: str = Field(min_length=1, max_length=20)
    times: int = Field(default=1, ge=1, le=3)


class Greeted(BaseModel):
    text: str


class Filter(BaseModel):
    tag: list[str] = []
    limit: int = Field(default=10, le=100)


@pytest.fixture
def greet_app(app):
    """A throwaway API on the real app's auth and error handling."""
    bp = Blueprint("greet", __name__, url_prefix="/api/test")
    api = Api(bp, title="t", version="0")

    @api.operation(
        "/greet", "POST", summary="greet", tag="t", body=Greeting, response=Greeted, status=201
    )
    def greet(body: Greeting) -> Greeted:
        return Greeted(text=" ".join([f"hi {body.name}"] * body.times))

    @api.operation("/things/<int:thing_id>", summary="one", tag="t", query=Filter, response=Greeted)
    def thing(thing_id: int, query: Filter) -> dict:
        return {"text": f"{thing_id}:{','.join(query.tag)}:{query.limit}"}

    app.register_blueprint(bp)
    csrf.exempt(bp)  # as create_app() does for the real API
    return app, api


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def test_valid_request(greet_app, api_token):
    app, _ = greet_app
    response = app.test_client().post(
        "/api/test/greet", json={"name": "Ann", "times": 2}, headers=auth(api_token)
    )
    assert response.status_code == 201
    assert response.json == {"text": "hi Ann hi Ann"}


def test_query_lists_and_path_ints(greet_app, api_token):
    app, _ = greet_app
    response = app.test_client().get(
        "/api/test/things/7?tag=a&tag=b&limit=5", headers=auth(api_token)
    )
    assert response.json == {"text": "7:a,b:5"}


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "send Authorization: Bearer"),
        ({"Authorization": "Basic abc"}, "send Authorization: Bearer"),
        ({"Authorization": "Bearer nl_notatoken"}, "invalid or revoked"),
    ],
)
def test_missing_or_bad_token(greet_app, headers, message):
    app, _ = greet_app
    response = app.test_client().post("/api/test/greet", json={"name": "x"}, headers=headers)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"
    assert message in response.json["error"]["message"]


def test_revoked_token(greet_app, api_token, db_session):
    from newsletter.accounts import revoke_api_token

    app, _ = greet_app
    revoke_api_token(db_session, name="tests")
    response = app.test_client().post(
        "/api/test/greet", json={"name": "x"}, headers=auth(api_token)
    )
    assert response.status_code == 401


def test_malformed_json(greet_app, api_token):
    app, _ = greet_app
    response = app.test_client().post(
        "/api/test/greet", data="{nope", content_type="application/json", headers=auth(api_token)
    )
    assert response.status_code == 400
    assert response.json["error"]["code"] == "malformed_json"


def test_not_json(greet_app, api_token):
    app, _ = greet_app
    response = app.test_client().post("/api/test/greet", data="name=x", headers=auth(api_token))
    assert response.status_code == 415


def test_validation_error_names_the_field(greet_app, api_token):
    app, _ = greet_app
    response = app.test_client().post(
        "/api/test/greet", json={"name": "x", "times": 9}, headers=auth(api_token)
    )
    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "validation_error"
    assert error["message"].startswith("times:")
    assert error["details"][0]["field"] == "times"


def test_document_is_generated_from_the_same_models(greet_app):
    _, api = greet_app
    doc = api.openapi("/api/test")
    post = doc["paths"]["/api/test/greet"]["post"]
    body_ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    greeting = doc["components"]["schemas"][body_ref.rsplit("/", 1)[1]]
    assert greeting["properties"]["times"]["maximum"] == 3
    assert set(post["responses"]) >= {"201", "400", "401", "422"}
    get = doc["paths"]["/api/test/things/{thing_id}"]["get"]
    params = {p["name"]: p for p in get["parameters"]}
    assert params["thing_id"]["in"] == "path" and params["thing_id"]["schema"]["type"] == "integer"
    assert params["tag"]["schema"]["type"] == "array"
    assert "404" in get["responses"]


def test_published_document(client):
    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"].startswith("3.1")
    assert "/api/v1/categories" in doc["paths"]
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
