import os
import subprocess
import sys
from pathlib import Path

from chaos.checks import chaos_off_in_production

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "PAYFLOW_ENV": "production",
    "SECRET_KEY": "x7Kp2mQv9Lr4Tn8Wb3Yc6Zd1Fg5Hj0Sa2Qe4Rt6Yu8Io0Pa3Sd5Fg7Hj9Kl1Zx3Cv5Bn7",
    "ALLOWED_HOSTS": "payflow.example.com",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


def test_chaos_on_in_production_is_a_deploy_error(settings):
    settings.PRODUCTION = True
    settings.CHAOS_ENABLED = True
    assert [error.id for error in chaos_off_in_production(None)] == ["payflow.chaos.E001"]


def test_chaos_off_in_production_passes(settings):
    settings.PRODUCTION = True
    settings.CHAOS_ENABLED = False
    assert chaos_off_in_production(None) == []


def test_chaos_on_in_development_is_fine(settings):
    settings.PRODUCTION = False
    settings.CHAOS_ENABLED = True
    assert chaos_off_in_production(None) == []


def test_check_deploy_fails_when_production_turns_chaos_on():
    env = {**os.environ, **PRODUCTION_ENV, "CHAOS_ENABLED": "true"}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "payflow.chaos.E001" in result.stderr + result.stdout
