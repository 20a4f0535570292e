"""Apps import payflow/ and transactions.events only, never another app's internals:
payouts and transactions must not import payments; transactions must not import payouts."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

FORBIDDEN = {
    "payouts": {"payments"},
    "transactions": {"payments", "payouts"},
}


def imported_top_level_modules(source: str) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif (  # importlib.import_module("payments.x") and __import__("payments")
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and getattr(node.func, "attr", getattr(node.func, "id", ""))
            in {"import_module", "__import__"}
        ):
            found.append((node.lineno, node.args[0].value))
    return found


def violations(app: str) -> list[str]:
    banned = FORBIDDEN[app]
    found = []
    for path in sorted((ROOT / app).rglob("*.py")):
        for lineno, module in imported_top_level_modules(path.read_text()):
            if module.split(".")[0] in banned:
                found.append(f"{path.relative_to(ROOT)}:{lineno} imports {module}")
    return found


@pytest.mark.parametrize("app", sorted(FORBIDDEN))
def test_app_respects_its_import_boundary(app):
    assert violations(app) == []


def test_the_scan_sees_every_kind_of_import():
    source = (
        "import payments.models\n"
        "from payments import services\n"
        "def f():\n"
        "    from payouts.models import PayoutBatch\n"
        "    importlib.import_module('payments.api')\n"
    )
    modules = [module for _, module in imported_top_level_modules(source)]
    assert modules == ["payments.models", "payments", "payouts.models", "payments.api"]
