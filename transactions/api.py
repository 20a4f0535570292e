"""The transactions JSON API: a sorted, cursor-paged list with the live stream's filters, one
transaction, and a streamed CSV export of every filtered row."""

from django.urls import reverse
from ninja import Field, Query, Router, Schema

from payflow.accounts.roles import Action
from payflow.api import needs
from payflow.exceptions import InvalidInput
from payflow.export import csv_response
from payflow.formatting import decimal_string, utc_iso
from transactions import selectors

router = Router(tags=["transactions"])


def transaction_as_json(transaction) -> dict:
    try:
        amount_decimal = decimal_string(transaction.amount, transaction.currency)
    except ValueError:
        amount_decimal = None
    links = {
        "self": f"/api/v1/transactions/{transaction.public_id}",
        "page": reverse("transactions:detail", args=[transaction.public_id]),
    }
    if transaction.payment_ref:
        links["payment"] = f"/api/v1/payments/{transaction.payment_ref}"
    if transaction.payout_ref:
        links["payout_batch"] = f"/api/v1/payouts/{transaction.payout_ref}"
    return {
        "id": transaction.public_id,
        "kind": transaction.kind,
        "status": transaction.status,
        "amount": transaction.amount,
        "amount_decimal": amount_decimal,
        "currency": transaction.currency,
        "merchant": transaction.merchant,
        "payment_id": transaction.payment_ref or None,
        "payout_batch_id": transaction.payout_ref or None,
        "created_at": utc_iso(transaction.created_at),
        "links": links,
    }


class TransactionFilterParams(Schema):
    """What the list and export take; documented here, parsed by the stream's one parser."""

    kind: str | None = Field(None, description="Comma-separated kinds.")
    status: str | None = Field(None, description="Comma-separated statuses.")
    currency: str | None = Field(None, description="Comma-separated ISO 4217 codes.")
    min_amount: str | None = Field(None, description="Minor units.")
    payment_ref: str | None = None
    payout_ref: str | None = None
    sort: str | None = Field(None, description="created_at, amount, status, kind, merchant.")


class TransactionListParams(TransactionFilterParams):
    cursor: str | None = None
    limit: str | None = Field(None, description="1 to the page maximum; default 50.")


def _limit(request) -> int:
    raw = (request.GET.get("limit") or "50").strip()
    if not raw.isdigit() or not 1 <= int(raw) <= selectors.MAX_TRANSACTION_PAGE:
        raise InvalidInput.for_fields(
            {"limit": [f"A whole number from 1 to {selectors.MAX_TRANSACTION_PAGE}."]}
        )
    return int(raw)


@router.get(
    "/transactions",
    summary="List transactions (kind, status, currency, min_amount, payment_ref, payout_ref; "
    "sort=created_at|amount|status|kind|merchant, '-' for descending; cursor pages)",
    auth=needs(Action.VIEW),
)
def list_transactions(request, params: Query[TransactionListParams]):
    query = selectors.parse_transaction_query(request.GET)
    limit = _limit(request)
    items, next_cursor = selectors.transaction_list(
        query=query, cursor=request.GET.get("cursor") or None, limit=limit
    )
    return {
        "items": [transaction_as_json(t) for t in items],
        "next_cursor": next_cursor,
        "sort": query.sort.param,
    }


@router.get(
    "/transactions/export.csv",
    summary="Every filtered transaction as CSV (same filters and sort as the list; streamed)",
    auth=needs(Action.VIEW),
)
def export_transactions(request, params: Query[TransactionFilterParams]):
    query = selectors.parse_transaction_query(request.GET)
    total, rows = selectors.transaction_export(query=query)
    return csv_response(
        filename="transactions.csv", header=selectors.EXPORT_HEADER, rows=rows, total=total
    )


@router.get("/transactions/{transaction_id}", summary="One transaction", auth=needs(Action.VIEW))
def get_transaction(request, transaction_id: str):
    return transaction_as_json(selectors.transaction_get(public_id=transaction_id))
