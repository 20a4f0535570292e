import random

import pytest
from django.test import AsyncClient

from chaos.config import ChaosSettings, HttpFault, publish_chaos_settings
from chaos.middleware import plan_injection
from payflow import metrics
from tests.chaos import urls as probe_urls

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.chaos.urls")]

ALL = frozenset({"page", "partial", "api"})


def chaos_with(*faults: HttpFault) -> None:
    publish_chaos_settings(ChaosSettings(http_faults=faults, version=1, preset="custom"))


def injected(kind: str) -> float:
    return metrics.CHAOS_INJECTIONS.labels(kind)._value.get()


@pytest.fixture(autouse=True)
def forget_probe_calls():
    probe_urls.CALLS.clear()


def test_full_error_rate_answers_500_or_503_with_the_header_and_counts_it(client):
    chaos_with(HttpFault("/payments", ALL, error_rate=1.0))
    before = injected("error")

    response = client.get("/payments-probe")

    assert response.status_code in {500, 503}
    assert response["X-Chaos-Injected"] == "error"
    assert b"This page failed on purpose" in response.content
    assert probe_urls.CALLS == []  # the view never ran: nothing was changed
    assert injected("error") == before + 1
    exposed = client.get("/metrics").content
    assert b'payflow_chaos_injections_total{kind="error"}' in exposed


def test_zero_rates_inject_nothing(client):
    chaos_with(HttpFault("/payments", ALL, error_rate=0.0, timeout_rate=0.0))
    before = (injected("error"), injected("timeout"), injected("latency"))

    responses = [client.get("/payments-probe") for _ in range(20)]

    assert {response.status_code for response in responses} == {200}
    assert not any(response.has_header("X-Chaos-Injected") for response in responses)
    assert (injected("error"), injected("timeout"), injected("latency")) == before


def test_api_requests_get_the_api_error_shape(admin_api):
    chaos_with(HttpFault("/api/", ALL, error_rate=1.0))
    response = admin_api.get("/api/v1/me")
    assert response.status_code in {500, 503}
    assert response.json()["code"] == "chaos_error"
    assert set(response.json()) >= {"code", "message", "fields"}


def test_htmx_partials_get_a_short_fragment(client):
    chaos_with(HttpFault("/payments", frozenset({"partial"}), error_rate=1.0))
    page = client.get("/payments-probe")
    partial = client.get("/payments-probe", headers={"HX-Request": "true"})
    assert page.status_code == 200
    assert partial.status_code in {500, 503}
    assert b"<html" not in partial.content
    assert b"chaos-injected" in partial.content


@pytest.mark.parametrize(
    "path",
    [
        "/healthz",
        "/readyz",
        "/metrics",
        "/login/",
        "/static/css/payflow.css",
        "/admin/login/",
        "/chaos",
        "/chaos/banner",
        "/api/v1/chaos",
    ],
)
@pytest.mark.parametrize("hx", [False, True])
def test_health_login_admin_and_the_chaos_controls_are_never_affected(client, path, hx):
    chaos_with(HttpFault("/", ALL, error_rate=1.0))
    headers = {"HX-Request": "true"} if hx else {}
    response = client.get(path, headers=headers)
    assert not response.has_header("X-Chaos-Injected")
    assert response.status_code < 500


def test_the_longest_matching_prefix_decides(client):
    chaos_with(
        HttpFault("/", ALL, error_rate=1.0),
        HttpFault("/probe", ALL, error_rate=0.0, latency_ms=1),
    )
    assert client.get("/probe/sync").status_code == 200
    assert client.get("/payments-probe").status_code in {500, 503}


def test_latency_is_marked_on_the_real_answer(client):
    chaos_with(HttpFault("/probe", ALL, latency_ms=1))
    before = injected("latency")
    response = client.get("/probe/sync")
    assert response.status_code == 200
    assert response.content == b"probe answered"
    assert response["X-Chaos-Injected"] == "latency"
    assert injected("latency") == before + 1


def test_a_timed_out_read_never_reaches_the_view(client, settings):
    settings.CHAOS_TIMEOUT_SECONDS = 0
    chaos_with(HttpFault("/probe", ALL, timeout_rate=1.0))
    response = client.get("/probe/sync")
    assert response.status_code == 504
    assert response["X-Chaos-Injected"] == "timeout"
    assert probe_urls.CALLS == []


def test_a_timed_out_write_runs_then_loses_its_answer(client, settings):
    # The case idempotency keys exist for: the server did the work, the client never heard.
    settings.CHAOS_TIMEOUT_SECONDS = 0
    chaos_with(HttpFault("/probe", ALL, timeout_rate=1.0))
    response = client.post("/probe/sync")
    assert response.status_code == 504
    assert probe_urls.CALLS == ["POST /probe/sync"]


def test_async_views_are_injected_on_the_async_path():
    chaos_with(HttpFault("/probe", ALL, error_rate=1.0))
    from asgiref.sync import async_to_sync

    response = async_to_sync(AsyncClient().get)("/probe/async")
    assert response.status_code in {500, 503}
    assert response["X-Chaos-Injected"] == "error"
    assert probe_urls.CALLS == []


def test_async_latency_and_timeout_sleep_without_blocking(settings):
    settings.CHAOS_TIMEOUT_SECONDS = 0
    from asgiref.sync import async_to_sync

    chaos_with(HttpFault("/probe", ALL, latency_ms=1))
    assert async_to_sync(AsyncClient().get)("/probe/async")["X-Chaos-Injected"] == "latency"
    chaos_with(HttpFault("/probe", ALL, timeout_rate=1.0))
    assert async_to_sync(AsyncClient().get)("/probe/async").status_code == 504


def test_nothing_is_injected_while_chaos_is_disabled(client, settings):
    chaos_with(HttpFault("/", ALL, error_rate=1.0))
    settings.CHAOS_ENABLED = False
    response = client.get("/probe/sync")
    assert response.status_code == 200
    assert not response.has_header("X-Chaos-Injected")


def test_stream_endpoints_are_left_to_stream_chaos(client):
    chaos_with(HttpFault("/", ALL, error_rate=1.0))
    response = client.get("/stream/transactions/")
    assert not response.has_header("X-Chaos-Injected")


def test_rates_are_honoured_over_many_requests():
    chaos = ChaosSettings(http_faults=(HttpFault("/", ALL, error_rate=0.3, timeout_rate=0.1),))
    rng = random.Random(20261124)
    plans = [plan_injection(chaos, "/payments", "page", rng) for _ in range(2000)]
    errors = sum(1 for plan in plans if plan and plan.failure == "error")
    timeouts = sum(1 for plan in plans if plan and plan.failure == "timeout")
    assert 500 <= errors <= 700
    assert 120 <= timeouts <= 280
    assert {plan.status for plan in plans if plan and plan.failure == "error"} == {500, 503}
