"""The main pages work under the Content-Security-Policy: no console CSP violation anywhere."""

import pytest

from tests.payments.factories import make_payment

pytestmark = pytest.mark.e2e

PAGES = ["/", "/transactions", "/payments", "/payments/new", "/payouts", "/chaos", "/admin/"]


def test_main_pages_raise_no_csp_violation(login, page, admin, asgi_server, screenshot):
    payment = make_payment(user=admin)
    problems: list[str] = []
    page.on(
        "console",
        lambda message: (
            problems.append(message.text)
            if "Content Security Policy" in message.text or "Refused to" in message.text
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    login(admin)
    for path in [*PAGES, f"/payments/{payment.public_id}"]:
        response = page.goto(f"{asgi_server.url}{path}")
        assert response.status == 200, path
        assert "nonce-" in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")
    page.goto(f"{asgi_server.url}/payments")
    page.keyboard.press("Control+Shift+D")  # the chaos dialog loads over htmx/fetch
    page.wait_for_timeout(500)
    screenshot("csp-walk-last-page")
    assert problems == []
