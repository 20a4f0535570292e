"""Chaos changed through one server process is in force in another (real daphne processes)."""

import socket
import time

import httpx
import pytest

from chaos.config import shared_cache
from payflow.accounts.services import api_token_create

ERRORS_ON_ME = {"http_faults": [{"path_prefix": "/api/v1/me", "error_rate": 1.0}]}


def _first_answer(predicate, request, *, within: float = 10.0):
    deadline = time.monotonic() + within
    while True:
        response = request()
        if predicate(response) or time.monotonic() > deadline:
            return response
        time.sleep(0.2)


def _change_in_one_process_is_seen_by_the_other(server_factory, admin):
    _, token = api_token_create(user=admin)
    auth = {"Authorization": f"Bearer {token}"}
    first, second = server_factory(), server_factory()
    assert httpx.get(f"{second.url}/api/v1/me", headers=auth).status_code == 200

    changed = httpx.put(f"{first.url}/api/v1/chaos", json=ERRORS_ON_ME, headers=auth)
    assert changed.status_code == 200, changed.text
    version = changed.json()["version"]

    injected = _first_answer(
        lambda response: response.status_code >= 500,
        lambda: httpx.get(f"{second.url}/api/v1/me", headers=auth),
    )
    assert injected.status_code in {500, 503}
    assert injected.headers["X-Chaos-Injected"] == "error"

    # The panel, served by the first process, shows the second one seeing the new version.
    second_id = f"{socket.gethostname()}:{second.process.pid}"
    processes = httpx.get(f"{first.url}/api/v1/chaos", headers=auth).json()["processes"]
    seen = {process["id"]: process for process in processes}
    assert seen[second_id]["version"] == version
    assert seen[second_id]["in_sync"] is True

    # Off, through the second process, is in force in the first.
    off = httpx.post(f"{second.url}/api/v1/chaos/presets/off", headers=auth)
    assert off.status_code == 200
    healed = _first_answer(
        lambda response: response.status_code == 200,
        lambda: httpx.get(f"{first.url}/api/v1/me", headers=auth),
    )
    assert healed.status_code == 200
    assert "X-Chaos-Injected" not in healed.headers


def test_change_in_one_process_is_seen_by_another(server_factory, admin):
    """On whatever this run uses: the file cache beside SQLite, or Redis."""
    _change_in_one_process_is_seen_by_the_other(server_factory, admin)


@pytest.mark.postgres
@pytest.mark.redis
def test_change_in_one_process_is_seen_by_another_through_redis(server_factory, admin):
    from django.core.cache.backends.redis import RedisCache

    assert isinstance(shared_cache(), RedisCache)
    _change_in_one_process_is_seen_by_the_other(server_factory, admin)
