"""Property: whatever a client sends to any API operation, PayFlow never answers a server error.

Schemathesis generates requests from the OpenAPI document (valid, borderline and invalid) and
sends them, as an operator with a bearer token, through Django's real request stack.
"""

import uuid

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings

from payflow.accounts.services import api_token_create


@pytest.fixture
def api_schema(db):
    # As Django's test client does: the request cycle must not close the test's connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def operator_token(operator):
    return api_token_create(user=operator)[1]


def test_api_never_answers_a_server_error(api_schema, operator_token):
    # schemathesis' own pytest plugin does not run on pytest 9 yet; hypothesis drives each
    # operation's strategy directly instead.
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=30,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def never_a_server_error(case):
            response = case.call(
                headers={
                    "Authorization": f"Bearer {operator_token}",
                    "Idempotency-Key": uuid.uuid4().hex,
                }
            )
            where = f"{case.method} {case.formatted_path}"
            assert response.status_code < 500, (where, response.text[:500])
            # schemathesis gives each header as a list of values, under any letter case.
            headers = {name.lower(): values for name, values in response.headers.items()}
            content_type = headers.get("content-type", [""])[0]
            if case.formatted_path.endswith("/export.csv") and response.status_code == 200:
                # The exports answer CSV; their errors are the one JSON shape like the rest.
                assert content_type.startswith("text/csv"), (where, response.status_code)
            else:
                assert content_type.startswith("application/json"), (where, response.status_code)

        never_a_server_error()
