"""A PostgreSQL cluster owned by one test, so the test can really stop and restart it.

``initdb`` into a temporary directory, served on a free port; PayFlow's schema is created with
``manage.py migrate`` and data written with ``manage.py`` commands in child processes (the test
process itself stays on the shared test database). Never the shared server: stopping that would
break every other test running on the machine.
"""

import contextlib
import glob
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg

from tests.server import ROOT, free_port

PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"


def pg_bin(name: str) -> str | None:
    for folder in sorted(glob.glob(PG_BIN_GLOB), reverse=True):
        path = Path(folder) / name
        if path.exists():
            return str(path)
    return shutil.which(name)


def _as_postgres_user(command: list[str]) -> list[str]:
    """initdb refuses to run as root: run the cluster as the ``postgres`` system user then."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


class OwnedPostgres:
    def __init__(self):
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="payflow-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
        self.dbname = "payflow"

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{self.dbname}"

    def _run(self, command: list[str]) -> None:
        subprocess.run(_as_postgres_user(command), check=True, capture_output=True, timeout=60)

    def init(self) -> "OwnedPostgres":
        self._run([pg_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres"])
        self.start()
        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(f"CREATE DATABASE {self.dbname}")
        self.manage("migrate", "--no-input")
        return self

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            [pg_bin("pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.log), "-w"]
            + ["start"]
        )

    def stop(self) -> None:
        """A fast shutdown: every connection is cut, as in a real database restart."""
        self._run([pg_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"])

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def env(self) -> dict:
        return {"DATABASE_URL": self.url, "PAYFLOW_ENV": "development"}

    def manage(self, *args: str, timeout: float = 120) -> str:
        env = {**os.environ, **self.env(), "DJANGO_SETTINGS_MODULE": "payflow.settings"}
        env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return done.stdout

    def viewer_token(self) -> str:
        script = (
            "from django.contrib.auth import get_user_model\n"
            "from payflow.accounts.roles import Role, assign_role\n"
            "from payflow.accounts.services import api_token_create\n"
            "user = get_user_model().objects.create_user('stream-viewer', password='x-Long-9')\n"
            "assign_role(user, Role.VIEWER)\n"
            "print(api_token_create(user=user)[1])\n"
        )
        return self.manage("shell", "-c", script).strip().splitlines()[-1]

    def produce(self, count: int) -> None:
        args = ("simulate", "transactions", "--count", str(count), "--rate", "0", "--quiet")
        self.manage(*args, timeout=600)

    def event_ids(self) -> list[int]:
        with psycopg.connect(self.url) as conn:
            rows = conn.execute("SELECT id FROM transactions_streamevent ORDER BY id").fetchall()
        return [row[0] for row in rows]
