"""The trailing-slash form of a page redirects to its canonical path instead of a 404."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("page", ["/payments", "/payouts", "/transactions", "/payments/new"])
def test_trailing_slash_redirects_to_the_page(client, viewer, page):
    client.force_login(viewer)
    response = client.get(f"{page}/?status=failed")
    assert response.status_code == 301
    assert response["Location"] == f"{page}?status=failed"


def test_a_missing_page_still_404s(client, viewer):
    client.force_login(viewer)
    assert client.get("/nothing-here/").status_code == 404


def test_api_paths_are_not_redirected(viewer_api):
    assert viewer_api.get("/api/v1/payments/").status_code == 404
