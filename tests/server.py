"""Run the real ASGI app under daphne (or another server: ``TEST_SERVER``) in a child process,
against the test database.

Tests that need WebSockets, SSE, several server processes or a browser use this: the child is
a real PayFlow server, so nothing about the network path is simulated.
"""

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
from django.conf import settings
from django.db import connection

from payflow.servers import server_command

ROOT = Path(__file__).resolve().parent.parent
# The server every test process runs on unless a test names one: the default, or another to run
# the whole suite on it (PAYFLOW_TEST_SERVER=uvicorn make test).
TEST_SERVER = settings.PAYFLOW_TEST_SERVER


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_database_url() -> str:
    """A DATABASE_URL for the database the test process is using right now."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    if connection.vendor == "postgresql":
        auth = settings["USER"] or ""
        if settings.get("PASSWORD"):
            auth += f":{settings['PASSWORD']}"
        host = settings.get("HOST") or "127.0.0.1"
        port = settings.get("PORT") or 5432
        return f"postgres://{auth}@{host}:{port}/{settings['NAME']}"
    raise RuntimeError(f"No server DATABASE_URL for vendor {connection.vendor}")


class ServerProcess:
    def __init__(
        self, *, port: int | None = None, env: dict | None = None, log_path=None, server=TEST_SERVER
    ):
        self.port = port or free_port()
        self.server = server
        self.extra_env = env or {}
        self.process: subprocess.Popen | None = None
        self.log_path = Path(log_path or ROOT / "artifacts" / "logs" / f"server-{self.port}.log")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self, *, wait: bool = True, timeout: float = 30) -> "ServerProcess":
        env = {
            **os.environ,
            "DATABASE_URL": self.extra_env.pop("DATABASE_URL", None) or test_database_url(),
            "PAYFLOW_ENV": "development",
            "DJANGO_SETTINGS_MODULE": "payflow.settings",
            "PYTHONUNBUFFERED": "1",
            **self.extra_env,
        }
        env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - lives as long as the child
        self.process = subprocess.Popen(
            server_command(self.server, host="127.0.0.1", port=self.port),
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if wait:
            self.wait_until_healthy(timeout)
        return self

    def wait_until_healthy(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early; see {self.log_path}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(
            f"server on {self.port} not healthy within {timeout}s; see {self.log_path}"
        )

    def stop(self, *, kill: bool = False) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGKILL if kill else signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
