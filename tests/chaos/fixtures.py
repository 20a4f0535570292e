"""Fixtures shared by the chaos tests and the browser tests that turn chaos on."""

import httpx
import pytest

from payflow.accounts.services import api_token_create


@pytest.fixture
def chaos_api(asgi_server, admin):
    """Change chaos the way a script would: the API of the running server, as an admin."""
    _, token = api_token_create(user=admin)
    headers = {"Authorization": f"Bearer {token}"}

    def put(*faults, **stream):
        body = {"http_faults": list(faults), **stream}
        response = httpx.put(f"{asgi_server.url}/api/v1/chaos", json=body, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    return put
