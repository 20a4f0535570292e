"""WebSocket origins, against a real server: bearer-token clients need no Origin; cookie
sessions must come from the exact page origin (scheme, host and port)."""

import json

import pytest
from django.test import Client
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from payflow.accounts.services import api_token_create


@pytest.fixture
def server(server_factory):
    return server_factory()


@pytest.fixture
def session_cookie(viewer):
    client = Client()
    client.force_login(viewer)
    return f"sessionid={client.cookies['sessionid'].value}"


def _first_message(ws) -> dict:
    return json.loads(ws.recv(timeout=10))


def test_bearer_token_client_without_origin_is_served(server, viewer):
    _, raw = api_token_create(user=viewer)
    with connect(
        f"{server.ws_url}/ws/transactions/",
        additional_headers={"Authorization": f"Bearer {raw}"},
        open_timeout=10,
    ) as ws:
        assert _first_message(ws)["type"] != "error"


def test_query_token_client_without_origin_is_served(server, viewer):
    _, raw = api_token_create(user=viewer)
    with connect(f"{server.ws_url}/ws/transactions/?token={raw}", open_timeout=10) as ws:
        assert _first_message(ws)["type"] != "error"


def test_cookie_session_from_the_page_origin_is_served(server, session_cookie):
    with connect(
        f"{server.ws_url}/ws/transactions/",
        origin=server.url,
        additional_headers={"Cookie": session_cookie},
        open_timeout=10,
    ) as ws:
        assert _first_message(ws)["type"] != "error"


@pytest.mark.parametrize(
    "origin",
    [
        "other-port",
        "https-scheme",
        "http://evil.example",
        None,
    ],
)
def test_cookie_session_from_any_other_origin_is_refused(server, session_cookie, origin):
    origin = {
        "other-port": f"http://127.0.0.1:{server.port + 1}",
        "https-scheme": f"https://127.0.0.1:{server.port}",
    }.get(origin, origin)
    with pytest.raises(InvalidStatus) as refused:
        connect(
            f"{server.ws_url}/ws/transactions/",
            origin=origin,
            additional_headers={"Cookie": session_cookie},
            open_timeout=10,
        )
    assert refused.value.response.status_code == 403
