"""Schemathesis over /api/v1/openapi.json: no server errors, no response that breaks the document.

The document is generated from the code, so every endpoint added later is covered here
without touching this file. (Schemathesis's own pytest plugin does not load under
pytest 9, so the operations are driven through Hypothesis directly.)
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]
EXAMPLES = {GenerationMode.POSITIVE: 30, GenerationMode.NEGATIVE: 15}


@pytest.mark.parametrize("mode", list(EXAMPLES), ids=lambda m: m.value)
def test_api_honours_its_document(app, api_token, mode):
    # Deterministic in CI: the profile loaded in tests/conftest.py draws fixed examples.
    assert settings.default.derandomize or os.environ.get("HYPOTHESIS_PROFILE") == "explore"
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, "the document lists no operations"
    headers = {"Authorization": f"Bearer {api_token}"}
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES[mode],
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        check()


def test_document_is_valid_openapi(client):
    doc = client.get("/api/v1/openapi.json").json
    # Loading validates the document against the OpenAPI 3.1 meta-schema.
    loaded = schemathesis.openapi.from_dict(doc)
    paths = {result.ok().path for result in loaded.get_all_operations()}
    assert "/api/v1/categories" in paths
