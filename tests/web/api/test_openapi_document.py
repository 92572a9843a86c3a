"""/api/v1/openapi.json validates as a whole with openapi-spec-validator.

The fault: a query parameter's schema kept pydantic's local `#/$defs/IssueStatus`
reference, which dangles in the document. Validating the whole document here
checks every endpoint added later too.
"""

from __future__ import annotations

import enum
import json

from flask import Blueprint
from openapi_spec_validator import validate
from pydantic import BaseModel

from newsletter.web.api.framework import Api


def _refs(node: object) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        for value in node.values():
            found |= _refs(value)
        return found
    if isinstance(node, list):
        return set().union(*(_refs(item) for item in node)) if node else set()
    return set()


def test_served_document_validates(client):
    doc = client.get("/api/v1/openapi.json").json
    validate(doc)  # raises OpenAPIValidationError with the path of the first fault
    assert "$defs" not in json.dumps(doc)
    schemas = doc["components"]["schemas"]
    for ref in _refs(doc):
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.removeprefix("#/components/schemas/") in schemas, ref


def test_issue_status_parameter_points_into_components(client):
    doc = client.get("/api/v1/openapi.json").json
    [status] = [
        p for p in doc["paths"]["/api/v1/issues"]["get"]["parameters"] if p["name"] == "status"
    ]
    assert "#/components/schemas/IssueStatus" in json.dumps(status["schema"])
    assert set(doc["components"]["schemas"]["IssueStatus"]["enum"]) >= {"draft", "sent"}


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Shape(BaseModel):
    sides: int


class Query(BaseModel):
    colour: Colour | None = None
    colours: list[Colour] = []
    shape: Shape | None = None  # a nested model in a query, referenced by $ref


class Body(BaseModel):
    colour: Colour


def test_nested_query_models_and_enums_shared_with_a_body_are_hoisted():
    api = Api(Blueprint("t", __name__), title="t", version="1")

    @api.operation("/things", summary="list", tag="t", query=Query)
    def things(query: Query) -> None: ...

    @api.operation("/things", "POST", summary="add", tag="t", body=Body)
    def add(body: Body) -> None: ...

    doc = api.openapi("/api")
    validate(doc)
    schemas = doc["components"]["schemas"]
    assert {"Colour", "Shape"} <= set(schemas)
    for ref in _refs(doc):
        assert ref.removeprefix("#/components/schemas/") in schemas, ref
