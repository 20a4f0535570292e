"""The benchmark is not part of the suite; this only checks that it starts and parses options."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_help_runs():
    result = subprocess.run(
        [sys.executable, "bench/stream.py", "--help"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0
    assert "--clients" in result.stdout


def test_bench_refuses_an_unknown_scenario():
    result = subprocess.run(
        [sys.executable, "bench/stream.py", "--scenarios", "nope"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "--scenarios" in result.stderr


def test_bench_refuses_an_unknown_server():
    result = subprocess.run(
        [sys.executable, "bench/stream.py", "--scenarios", "big", "--server", "daphne,nope"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "--server: unknown nope" in result.stderr
