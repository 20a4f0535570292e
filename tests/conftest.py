import os

import pytest
import redis
from django.conf import settings
from django.db import connection

from payflow.accounts.roles import Role, ensure_groups
from payflow.accounts.services import api_token_create
from tests.factories import TEST_PASSWORD, UserFactory
from tests.server import TEST_SERVER, ServerProcess

IN_CI = bool(os.environ.get("CI"))


def _postgres_missing() -> str | None:
    if connection.vendor != "postgresql":
        return "needs PostgreSQL: set DATABASE_URL=postgres://..."
    return None


def _redis_missing() -> str | None:
    if not settings.REDIS_URL:
        return "needs Redis: set REDIS_URL=redis://..."
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError as exc:
        return f"needs Redis at REDIS_URL, which does not answer: {exc}"
    return None


def pytest_collection_modifyitems(items):
    """Browser tests run last. Playwright's sync API keeps an event loop running in the main
    thread from its first test to the end of the session, and any later test that calls an
    async view through Django's sync test client would then fail inside async_to_sync."""
    items.sort(key=lambda item: item.get_closest_marker("e2e") is not None)


def pytest_runtest_setup(item):
    for marker, missing in (("postgres", _postgres_missing), ("redis", _redis_missing)):
        if item.get_closest_marker(marker) is None:
            continue
        reason = missing()
        if reason:
            # In CI the real services must be there: a missing one is a failure, not a skip.
            (pytest.fail if IN_CI else pytest.skip)(reason)


@pytest.fixture(autouse=True)
def no_chaos_left_behind():
    """Published chaos lives in the shared cache and outlives a flushed test database: clear it
    around every test so one test's failure injection never reaches another's server."""
    from chaos.config import clear_shared_state

    clear_shared_state()
    yield
    clear_shared_state()


@pytest.fixture(autouse=True)
def demo_statements_in_tmp(tmp_path, monkeypatch):
    """seed_demo and simulate write bank statement files: into the test's own directory."""
    from reconciliation import demo

    monkeypatch.setattr(demo, "DEMO_STATEMENTS_DIR", tmp_path / "demo-statements")


@pytest.fixture
def role_groups(db):
    return ensure_groups()


@pytest.fixture
def viewer(db):
    return UserFactory(username="viewer-user", role=Role.VIEWER)


@pytest.fixture
def operator(db):
    return UserFactory(username="operator-user", role=Role.OPERATOR)


@pytest.fixture
def admin(db):
    return UserFactory(username="admin-user", role=Role.ADMIN)


@pytest.fixture
def password():
    return TEST_PASSWORD


def _bearer_client(user):
    from django.test import Client

    _, raw = api_token_create(user=user)
    return Client(headers={"Authorization": f"Bearer {raw}"})


@pytest.fixture
def viewer_api(viewer):
    return _bearer_client(viewer)


@pytest.fixture
def operator_api(operator):
    return _bearer_client(operator)


@pytest.fixture
def admin_api(admin):
    return _bearer_client(admin)


@pytest.fixture
def server_factory(transactional_db):
    """Start real servers (``TEST_SERVER`` unless ``server=``) on the test database; all are
    stopped after the test."""
    started: list[ServerProcess] = []

    def start(server: str = TEST_SERVER, **env) -> ServerProcess:
        server = ServerProcess(env={key: str(value) for key, value in env.items()}, server=server)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def asgi_server(server_factory):
    return server_factory()
