"""Each person chooses a display time zone and number format; the default follows the browser."""

from datetime import UTC, datetime

import pytest

from payflow.accounts.models import DisplayPreference
from tests.payments.factories import make_payment

pytestmark = pytest.mark.django_db


def test_default_follows_the_browser_zone_cookie_and_language(client, viewer, operator):
    payment = make_payment(user=operator, amount=123456, currency="USD")
    payment.__class__.objects.filter(pk=payment.pk).update(
        created_at=datetime(2026, 12, 1, 20, 31, 20, tzinfo=UTC)
    )
    client.force_login(viewer)
    client.cookies["pf_tz"] = "Asia/Tokyo"
    html = client.get(
        f"/payments/{payment.public_id}", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9"
    ).content.decode()
    assert "1.234,56\u00a0USD" in html
    assert "2026-12-02 05:31:20 Asia/Tokyo" in html


def test_a_chosen_zone_wins_over_the_browser(client, viewer, operator):
    payment = make_payment(user=operator, amount=1250, currency="KWD")
    client.force_login(viewer)
    client.cookies["pf_tz"] = "Asia/Tokyo"
    response = client.post(
        "/account/preferences", {"time_zone": "America/New_York", "locale": "en-US"}
    )
    assert response.status_code == 302
    pref = DisplayPreference.objects.get(user=viewer)
    assert (pref.time_zone, pref.locale) == ("America/New_York", "en-US")
    html = client.get(f"/payments/{payment.public_id}").content.decode()
    assert "1.250\u00a0KWD" in html
    assert "America/New_York" in html
    assert "Asia/Tokyo" not in html.split("<main")[1]


def test_bad_preferences_name_each_field_and_change_nothing(client, viewer):
    client.force_login(viewer)
    response = client.post("/account/preferences", {"time_zone": "Mars/Olympus", "locale": "xx"})
    assert response.status_code == 422
    html = response.content.decode()
    assert "not an IANA time zone" in html
    assert "Choose one of the listed number formats" in html
    assert not DisplayPreference.objects.filter(user=viewer).exists()


def test_preferences_page_needs_a_login(client):
    assert client.get("/account/preferences").status_code == 302
