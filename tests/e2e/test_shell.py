import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def test_operator_logs_in_and_sees_navigation_and_role(login, page, operator, screenshot):
    login(operator)
    nav = page.get_by_role("navigation", name="Main")
    for label in ["Transactions", "Payments", "Payouts"]:
        expect(nav.get_by_role("link", name=label)).to_be_visible()
    expect(nav.get_by_role("link", name="Admin")).to_have_count(0)
    expect(page.get_by_test_id("user-role")).to_have_text("Operator")
    expect(page.get_by_test_id("user-name")).to_have_text(operator.username)
    screenshot("shell-operator")


def test_admin_sees_the_admin_link(login, page, admin):
    login(admin)
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Admin")
    ).to_be_visible()


def test_wrong_password_shows_an_error(page, asgi_server, operator):
    page.goto(f"{asgi_server.url}/login/")
    page.get_by_label("Username").fill(operator.username)
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("correct username and password")
