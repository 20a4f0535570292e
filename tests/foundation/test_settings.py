"""Settings in one place: the README's table and the settings agree, no app reads a setting
with its own default, and an unknown or invalid variable stops start-up naming it."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from payflow import settings as payflow_settings

ROOT = Path(__file__).resolve().parents[2]
APPS = ["payflow", "payments", "payouts", "transactions", "chaos"]


def _readme_variables() -> set[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1]))
    return names


def test_readme_table_lists_exactly_the_variables_settings_read():
    assert _readme_variables() == payflow_settings.KNOWN_VARIABLES


def test_every_known_variable_is_read_in_settings():
    source = (ROOT / "payflow" / "settings.py").read_text()
    unread = [name for name in payflow_settings.KNOWN_VARIABLES if source.count(f'"{name}"') < 2]
    assert unread == []


def test_no_app_reads_a_setting_with_its_own_default():
    offenders = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id == "getattr"
                    and node.args
                    and isinstance(node.args[0], ast.Name)
                    and node.args[0].id == "settings"
                ):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def _check(**env):
    import os

    full = {**os.environ, **env}
    full.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"STREAM_QUEUE_CAPACTIY": "10"}, "STREAM_QUEUE_CAPACTIY"),
        ({"PAYFLOW_MAX_BODY_BYTE": "10"}, "PAYFLOW_MAX_BODY_BYTE"),
        ({"STREAM_QUEUE_CAPACITY": "lots"}, "STREAM_QUEUE_CAPACITY"),
        ({"STREAM_SLOW_CLIENT_SECONDS": "inf"}, "STREAM_SLOW_CLIENT_SECONDS"),
        ({"LOGIN_FAILURE_LIMIT": "-1"}, "LOGIN_FAILURE_LIMIT"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
    ],
)
def test_unknown_or_invalid_variables_stop_start_up(env, named):
    result = _check(**env)
    assert result.returncode != 0
    assert named in result.stderr
    assert "Traceback" not in result.stderr.splitlines()[-1]
