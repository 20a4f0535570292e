import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LONG_SECRET = "x7Kp2mQv9Lr4Tn8Wb3Yc6Zd1Fg5Hj0Sa2Qe4Rt6Yu8Io0Pa3Sd5Fg7Hj9Kl1Zx3Cv5Bn7"


def _run(args, env_overrides, *, drop=()):
    env = {**os.environ, **env_overrides}
    # The browser tests lift Django's async guard for this process only; deploy checks refuse it.
    for name in (*drop, "DJANGO_ALLOW_ASYNC_UNSAFE"):
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION_ENV = {
    "PAYFLOW_ENV": "production",
    "SECRET_KEY": LONG_SECRET,
    "ALLOWED_HOSTS": "payflow.example.com",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


def test_production_refuses_to_start_without_secret_key():
    result = _run(["check"], PRODUCTION_ENV, drop=["SECRET_KEY"])
    assert result.returncode != 0
    assert "missing environment variable(s) SECRET_KEY" in result.stderr


def test_production_names_every_missing_variable():
    result = _run(
        ["check"],
        {"PAYFLOW_ENV": "production"},
        drop=["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL"],
    )
    assert result.returncode != 0
    assert "SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL, REDIS_URL" in result.stderr


def test_production_refuses_sqlite():
    result = _run(["check"], {**PRODUCTION_ENV, "DATABASE_URL": "sqlite:///x.db"})
    assert result.returncode != 0
    assert "PostgreSQL" in result.stderr


def test_production_check_deploy_is_clean():
    result = _run(["check", "--deploy", "--fail-level", "WARNING"], PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_healthz_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_is_ready_when_database_and_channel_layer_answer(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "channel_layer": "ok"}


def test_readyz_names_the_database_when_it_is_unreachable(server_factory):
    # A real server process whose database does not exist on a closed port.
    server = server_factory(DATABASE_URL="postgres://postgres@127.0.0.1:1/nowhere")
    import httpx

    response = httpx.get(f"{server.url}/readyz", timeout=10)
    assert response.status_code == 503
    assert response.json()["failed"] == ["database"]
    assert "database" in response.json()["message"]
    assert httpx.get(f"{server.url}/healthz", timeout=5).status_code == 200


def test_metrics_are_prometheus_text(client):
    client.get("/healthz")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert b'payflow_http_requests_total{method="GET",route="healthz",status="200"}' in (
        response.content
    )


def test_request_id_is_echoed_when_well_formed(client):
    response = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert response["X-Request-ID"] == "abc-123"


def test_request_id_is_minted_when_absent_or_malformed(client):
    minted = client.get("/healthz")["X-Request-ID"]
    replaced = client.get("/healthz", headers={"X-Request-ID": "bad id\n" * 40})["X-Request-ID"]
    assert len(minted) == 32
    assert replaced != "bad id\n" * 40
    assert len(replaced) == 32


def test_request_id_reaches_log_lines(client, caplog):
    caplog.set_level("INFO")
    client.get("/healthz", headers={"X-Request-ID": "trace-me-42"})
    structured = [record.msg for record in caplog.records if isinstance(record.msg, dict)]
    assert structured, "no structured log lines were written"
    assert all(line.get("request_id") == "trace-me-42" for line in structured)


def test_json_log_lines_in_production_format():
    import json
    import logging

    from payflow.observability import configure_logging

    config = configure_logging(level="INFO", json_lines=True)
    formatter = logging.config.dictConfigClass(config).configure_custom(
        config["formatters"]["structured"]
    )
    record = logging.LogRecord("payflow", logging.INFO, __file__, 1, "hello %s", ("world",), None)
    line = json.loads(formatter.format(record))
    assert line["event"] == "hello world"
    assert line["level"] == "info"


def test_openapi_document_is_served(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")


def test_unknown_api_route_is_json_404(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
