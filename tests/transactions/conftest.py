import pytest

from payflow.accounts.services import api_token_create

# Quick heartbeats so test clients know at once that they are subscribed, and SSE reads never
# sit idle for long.
STREAM_ENV = {"STREAM_HEARTBEAT_SECONDS": 1}


@pytest.fixture
def viewer_token(viewer):
    return api_token_create(user=viewer)[1]


@pytest.fixture
def bearer(viewer_token):
    return {"Authorization": f"Bearer {viewer_token}"}


@pytest.fixture
def stream_server(server_factory):
    def start(**env):
        return server_factory(**{**STREAM_ENV, **env})

    return start
