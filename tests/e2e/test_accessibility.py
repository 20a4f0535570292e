"""Every page passes axe-core (pinned in tests/e2e/package-lock.json) with no serious or critical
violation: the overview, transactions, payments list/new/detail, payouts list/detail, login, and
the chaos panel open over a page."""

import datetime as dt
import json
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from payments.transitions import PaymentStatus
from payouts.transitions import BatchStatus
from tests.payments.factories import make_payment
from tests.payouts.factories import make_batch

pytestmark = pytest.mark.e2e

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = {"serious", "critical"}
RULE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def axe_violations(page) -> list[dict]:
    if not AXE.exists():
        pytest.fail(
            f"axe-core is missing at {AXE}: run `npm ci --prefix tests/e2e` (make test does)."
        )
    # Evaluated through the devtools protocol, which the page's CSP (nonces only, no inline
    # scripts) rightly does not let a <script> tag do.
    page.evaluate(AXE.read_text() + "\n;true")
    results = page.evaluate(
        "async (tags) => await axe.run(document,"
        " {resultTypes: ['violations'], runOnly: {type: 'tag', values: tags}})",
        RULE_TAGS,
    )
    return [
        {
            "id": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "targets": [node["target"] for node in violation["nodes"]][:5],
        }
        for violation in results["violations"]
        if violation["impact"] in BLOCKING_IMPACTS
    ]


def assert_accessible(page, name: str, screenshot) -> None:
    page.wait_for_load_state("networkidle")
    screenshot(f"a11y-{name}")
    violations = axe_violations(page)
    assert violations == [], f"{name}: " + json.dumps(violations, indent=2)


@pytest.fixture
def demo_rows(operator):
    payment = make_payment(user=operator, status=PaymentStatus.REQUIRES_ACTION)
    batch = make_batch(
        status=BatchStatus.IN_TRANSIT,
        submitted_at=timezone.now() - dt.timedelta(days=14),
        name="Friday payroll",
    )
    return payment, batch


def test_the_check_catches_a_real_violation(page, asgi_server):
    # Guards the harness itself: an image without a text alternative must be reported.
    page.goto(f"{asgi_server.url}/login/")
    page.evaluate("document.querySelector('main').append(document.createElement('img'))")
    assert "image-alt" in {violation["id"] for violation in axe_violations(page)}


def test_login_page_is_accessible(page, asgi_server, screenshot):
    page.goto(f"{asgi_server.url}/login/")
    assert_accessible(page, "login", screenshot)


def test_every_page_is_accessible(login, page, admin, asgi_server, demo_rows, screenshot):
    payment, batch = demo_rows
    login(admin)
    pages = {
        "overview": "/",
        "transactions": "/transactions",
        "payments-list": "/payments",
        "payments-new": "/payments/new",
        "payments-detail": f"/payments/{payment.public_id}",
        "payouts-list": "/payouts",
        "payouts-detail": f"/payouts/{batch.public_id}",
        "chaos-page": "/chaos",
    }
    failures = {}
    for name, path in pages.items():
        page.goto(f"{asgi_server.url}{path}")
        page.wait_for_load_state("networkidle")
        screenshot(f"a11y-{name}")
        violations = axe_violations(page)
        if violations:
            failures[name] = violations
    assert failures == {}, json.dumps(failures, indent=2)


def test_chaos_panel_and_banner_are_accessible(login, page, admin, asgi_server, screenshot):
    login(admin)
    page.wait_for_function("() => window.payflowChaos")
    page.keyboard.press("Control+Shift+D")
    dialog = page.get_by_test_id("chaos-dialog")
    dialog.get_by_role("button", name="Intermittent Failures").click()
    expect(page.locator("#chaos-banner")).to_be_visible()
    expect(dialog.get_by_test_id("chaos-state")).to_contain_text("Chaos is on")
    assert_accessible(page, "chaos-panel-open", screenshot)


def test_error_and_offline_states_are_accessible(login, page, admin, asgi_server, screenshot):
    login(admin)
    page.evaluate(
        "() => { const s = [...window.payflowSections.sections.values()][0];"
        " s.failures = 1; s.fail('the server answered 503'); }"
    )
    page.context.set_offline(True)
    expect(page.get_by_test_id("offline-banner")).to_be_visible()
    assert_accessible(page, "error-and-offline", screenshot)
    page.context.set_offline(False)
