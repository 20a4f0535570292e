"""The README's first command as a user runs it: `make run` serves a dashboard to log in to."""

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.server import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def make_run(tmp_path):
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    # The embedded defaults, on a fresh SQLite file of its own.
    env["SQLITE_PATH"] = str(tmp_path / "fresh.sqlite3")
    log = open(tmp_path / "make-run.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        ["make", "run", f"PORT={port}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    yield f"http://127.0.0.1:{port}", process, tmp_path / "make-run.log"
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)


def _wait_for(url: str, process, log_path, timeout: float = 180) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, log_path.read_text()
        try:
            return httpx.get(url, timeout=2)
        except httpx.HTTPError:
            time.sleep(0.5)
    raise AssertionError(f"{url} did not answer; log:\n{log_path.read_text()}")


def test_make_run_serves_login_and_operator_can_log_in(make_run):
    base, process, log_path = make_run
    login_page = _wait_for(f"{base}/login/", process, log_path)
    assert login_page.status_code == 200
    with httpx.Client(base_url=base, timeout=10) as browser:
        page = browser.get("/login/")
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        response = browser.post(
            "/login/",
            data={
                "username": "operator",
                "password": "payflow-demo",
                "csrfmiddlewaretoken": csrf,
                "next": "/",
            },
            headers={"Referer": f"{base}/login/"},
        )
        assert response.status_code == 302
        assert response.headers["Location"] == "/"
        home = browser.get("/")
        assert home.status_code == 200
        assert "Operator" in home.text
