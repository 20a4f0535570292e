"""A database outage answers 503 service_unavailable with Retry-After, never a 500: JSON for the
API and the stream, the HTML error page for people. A real server whose database is a closed
port (nothing mocked): every request that needs the database meets a real connection error."""

import httpx
import pytest

DEAD_DATABASE = "postgres://postgres@127.0.0.1:1/nowhere"


@pytest.fixture
def dead_db_server(server_factory):
    return server_factory(DATABASE_URL=DEAD_DATABASE, PAYFLOW_READYZ_TOKEN="probe-token-1")


def _assert_503(response):
    assert response.status_code == 503, response.text[:500]
    assert int(response.headers["Retry-After"]) > 0


def test_api_answers_503_json_when_the_database_is_down(dead_db_server):
    response = httpx.get(
        f"{dead_db_server.url}/api/v1/payments",
        headers={"Authorization": "Bearer pf_some-token"},
        timeout=15,
    )
    _assert_503(response)
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == "service_unavailable"
    assert set(body) >= {"code", "message", "fields"}
    assert "nowhere" not in response.text  # no connection details leak


def test_pages_answer_503_html_when_the_database_is_down(dead_db_server):
    # A session cookie makes the page look its user up in the (dead) database.
    response = httpx.get(
        f"{dead_db_server.url}/payments", cookies={"sessionid": "x" * 32}, timeout=15
    )
    _assert_503(response)
    assert response.headers["Content-Type"].startswith("text/html")
    assert "temporarily unavailable" in response.text


def test_login_answers_503_when_the_database_is_down(dead_db_server):
    with httpx.Client(base_url=dead_db_server.url, timeout=15) as client:
        page = client.get("/login/")
        token = page.cookies.get("csrftoken")
        response = client.post(
            "/login/",
            data={"username": "viewer", "password": "x", "csrfmiddlewaretoken": token},
        )
    _assert_503(response)


def test_the_sse_stream_answers_503_json_when_the_database_is_down(dead_db_server):
    response = httpx.get(
        f"{dead_db_server.url}/stream/transactions/",
        headers={"Authorization": "Bearer pf_some-token", "Accept": "text/event-stream"},
        timeout=15,
    )
    _assert_503(response)
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "service_unavailable"


def test_readyz_keeps_the_error_text_to_the_probe_token(dead_db_server):
    anonymous = httpx.get(f"{dead_db_server.url}/readyz", timeout=15)
    assert anonymous.status_code == 503
    assert anonymous.json()["failed"] == ["database"]
    assert "errors" not in anonymous.json()
    assert "port 1" not in anonymous.text
    probe = httpx.get(
        f"{dead_db_server.url}/readyz",
        headers={"Authorization": "Bearer probe-token-1"},
        timeout=15,
    )
    assert "OperationalError" in probe.json()["errors"]["database"]


@pytest.fixture
def dead_redis_server(server_factory):
    from tests.server import free_port

    # A Redis URL on a port nothing listens on: the channel layer and cache are really down.
    return server_factory(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")


def test_a_redis_outage_answers_503_where_redis_is_needed(dead_redis_server, admin):
    from payflow.accounts.services import api_token_create

    _, raw = api_token_create(user=admin)
    auth = {"Authorization": f"Bearer {raw}"}
    # A read that needs only the database keeps working.
    listed = httpx.get(f"{dead_redis_server.url}/api/v1/payments", headers=auth, timeout=20)
    # The chaos settings live in the shared cache, which is Redis.
    response = httpx.get(f"{dead_redis_server.url}/api/v1/chaos", headers=auth, timeout=20)
    assert listed.status_code == 200
    assert response.status_code == 503, response.text[:300]
    assert response.json()["code"] == "service_unavailable"
    assert "Retry-After" in response.headers
    assert "Redis" in response.json()["message"]
    ready = httpx.get(f"{dead_redis_server.url}/readyz", timeout=20)
    assert ready.status_code == 503
    assert ready.json()["failed"] == ["channel_layer"]
