"""Security headers and what logs and probes may say."""

import logging

import pytest
from django.test import override_settings

from payflow.observability import configure_logging, redact_query_values

pytestmark = pytest.mark.django_db


def test_pages_carry_a_nonce_csp_and_permissions_policy(client, viewer):
    client.force_login(viewer)
    response = client.get("/payments")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in csp
    assert "unsafe-inline" not in csp
    nonce = csp.split("'nonce-")[1].split("'")[0]
    assert f'nonce="{nonce}"' in response.content.decode()
    assert "camera=()" in response["Permissions-Policy"]


def test_each_response_gets_a_fresh_nonce(client):
    first = client.get("/login/")["Content-Security-Policy"]
    second = client.get("/login/")["Content-Security-Policy"]
    assert first != second


@override_settings(SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"))
def test_forwarded_proto_is_believed_only_from_a_trusted_proxy(rf, settings):
    from payflow.proxies import TrustedProxyMiddleware

    settings.PAYFLOW_TRUSTED_PROXIES = ["10.0.0.1"]
    seen = {}

    def view(request):
        seen["secure"] = request.is_secure()
        return None

    middleware = TrustedProxyMiddleware(view)
    middleware(rf.get("/", HTTP_X_FORWARDED_PROTO="https", REMOTE_ADDR="203.0.113.1"))
    assert seen["secure"] is False
    middleware(rf.get("/", HTTP_X_FORWARDED_PROTO="https", REMOTE_ADDR="10.0.0.1"))
    assert seen["secure"] is True


def test_query_values_are_redacted():
    assert (
        redact_query_values("GET /stream/transactions/?token=pf_secret&since=5")
        == "GET /stream/transactions/?token=[redacted]&since=[redacted]"
    )
    assert redact_query_values("no query here a=b") == "no query here a=b"


def test_request_log_lines_never_carry_a_query_value(client, viewer, caplog):
    client.force_login(viewer)
    caplog.set_level("INFO")
    client.get("/payments?q=hunter2&token=pf_secret_token")
    structured = [record.msg for record in caplog.records if isinstance(record.msg, dict)]
    assert structured
    text = repr(structured)
    assert "pf_secret_token" not in text
    assert "hunter2" not in text


def test_stdlib_log_lines_are_redacted_too():
    config = configure_logging(level="INFO", json_lines=True)
    formatter_config = dict(config["formatters"]["structured"])
    factory = formatter_config.pop("()")
    formatter = factory(**formatter_config)
    record = logging.LogRecord(
        "django.request", logging.WARNING, __file__, 1, "Not Found: %s", ("/x?token=abc",), None
    )
    assert "abc" not in formatter.format(record)


def test_metrics_can_be_put_behind_a_token(client, settings):
    settings.PAYFLOW_METRICS_TOKEN = "scrape-me"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer scrape-me"}).status_code == 200
