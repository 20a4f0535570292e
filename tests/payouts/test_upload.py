"""The CSV batch upload: a preview with per-row errors before anything is created, then one
batch per form (the key minted when the form was shown)."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from payouts.csv_items import decode, parse_items_csv
from payouts.models import PayoutBatch

pytestmark = pytest.mark.django_db
GOOD = "recipient_name,account,amount,reference\nAda,GB29NWBK60161331926819,12.50,INV-1\n"
BAD = GOOD + "Grace,,abc,\nAlan,12345678,0.001,\n"


def test_parse_names_every_bad_row_and_field():
    preview = parse_items_csv(BAD, "USD")
    assert not preview.ok
    assert [row.line for row in preview.bad_rows] == [3, 4]
    assert set(preview.bad_rows[0].errors) == {"account", "amount"}
    assert "more decimals than USD allows (2)" in preview.bad_rows[1].errors["amount"]
    assert preview.rows[0].amount == 1250


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "empty"),
        ("name,amount\nA,1\n", "lacks recipient_name, account"),
        ("recipient_name,account,amount,colour\n", "unknown column"),
        ("recipient_name,account,amount\n", "no items"),
    ],
)
def test_parse_refuses_bad_files_whole(text, words):
    preview = parse_items_csv(text, "USD")
    assert not preview.ok
    assert words in preview.errors[0]


def test_jpy_amounts_have_no_minor_unit():
    preview = parse_items_csv("recipient_name,account,amount\nA,1,7756\nB,2,1.5\n", "JPY")
    assert preview.rows[0].amount == 7756
    assert "no minor unit" in preview.rows[1].errors["amount"]


def test_decode_refuses_binary_and_nul():
    with pytest.raises(ValueError, match="UTF-8"):
        decode(b"\xff\xfe\x00a")
    with pytest.raises(ValueError, match="NUL"):
        decode(b"a\x00b")


def _form(client):
    html = client.get("/payouts/new").content.decode()
    return re.search(r'name="idempotency_key" value="([^"]+)"', html).group(1)


def _post(client, key, text=None, action="preview", csv_text=""):
    data = {
        "name": "Creators",
        "currency": "USD",
        "rail": "ach",
        "business_days": "1",
        "calendar": "",
        "idempotency_key": key,
        "submit_now": "on",
        "action": action,
        "csv_text": csv_text,
    }
    if text is not None:
        data["file"] = SimpleUploadedFile("items.csv", text.encode(), "text/csv")
    return client.post("/payouts/new", data)


def test_upload_with_a_bad_row_previews_errors_and_creates_nothing(client, operator):
    client.force_login(operator)
    key = _form(client)
    response = _post(client, key, BAD, action="create")
    assert response.status_code == 422
    html = response.content.decode()
    assert "2 of 3 rows have errors" in html
    assert "account: Required." in html
    assert 'data-testid="create-batch"' not in html
    assert PayoutBatch.objects.count() == 0


def test_upload_previews_then_creates_once(client, operator):
    client.force_login(operator)
    key = _form(client)
    preview = _post(client, key, GOOD)
    assert preview.status_code == 200
    assert "All 1 rows are valid" in preview.content.decode()
    assert PayoutBatch.objects.count() == 0
    created = _post(client, key, action="create", csv_text=GOOD)
    batch = PayoutBatch.objects.get()
    assert created["Location"] == f"/payouts/{batch.public_id}"
    assert batch.status == "processing"
    item = batch.items.get()
    assert (item.amount, item.reference, item.account_reference) == (
        1250,
        "INV-1",
        "GB29NWBK60161331926819",
    )
    again = _post(client, key, action="create", csv_text=GOOD)  # a double submit
    assert again["Location"] == created["Location"]
    assert PayoutBatch.objects.count() == 1


def test_viewer_cannot_upload(client, viewer):
    client.force_login(viewer)
    assert client.get("/payouts/new").status_code == 403
