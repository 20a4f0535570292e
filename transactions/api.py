"""The transactions JSON API: a sorted, cursor-paged list with the live stream's filters, one
transaction, and a streamed CSV export of every filtered row."""

from typing import Literal

from django.urls import reverse
from ninja import Field, Query, Router, Schema

from payflow.accounts.roles import Action
from payflow.api import CURSOR_DOC, enum_list_pattern, list_pattern, needs, sort_choices, sort_doc
from payflow.export import csv_response
from payflow.formatting import decimal_string, utc_iso
from transactions import selectors
from transactions.models import TransactionKind
from transactions.stream import MAX_EVENT_ID, MAX_FILTER_VALUES

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


TransactionSort = Literal[sort_choices(selectors.TRANSACTION_SORTS)]  # type: ignore[valid-type]
REF_PATTERN = "^[A-Za-z0-9_]{0,40}$"


class TransactionFilterParams(Schema):
    """What the list and export take, stated exactly; the stream's one parser reads them."""

    kind: str | None = Field(
        None,
        description="Comma-separated kinds.",
        pattern=enum_list_pattern(TransactionKind.values, max_items=MAX_FILTER_VALUES),
    )
    status: str | None = Field(
        None,
        description="Comma-separated status names (any case).",
        pattern=list_pattern("[A-Za-z][A-Za-z0-9_]{0,31}", max_items=MAX_FILTER_VALUES),
    )
    currency: str | None = Field(
        None,
        description="Comma-separated 3-letter ISO 4217 codes (any case).",
        pattern=list_pattern("[A-Za-z]{3}", max_items=MAX_FILTER_VALUES),
    )
    min_amount: int | None = Field(None, ge=0, le=MAX_EVENT_ID, description="Minor units.")
    payment_ref: str | None = Field(None, pattern=REF_PATTERN)
    payout_ref: str | None = Field(None, pattern=REF_PATTERN)
    sort: TransactionSort | None = Field(
        None,
        description=sort_doc(selectors.TRANSACTION_SORTS, selectors.DEFAULT_TRANSACTION_SORT),
    )


class TransactionListParams(TransactionFilterParams):
    cursor: str | None = Field(None, json_schema_extra=CURSOR_DOC)
    limit: int = Field(50, ge=1, le=selectors.MAX_TRANSACTION_PAGE)


@router.get(
    "/transactions",
    summary="List transactions (kind, status, currency, min_amount, payment_ref, payout_ref; "
    "sort=created_at|amount|status|kind|merchant, '-' for descending; cursor pages)",
    auth=needs(Action.VIEW),
)
def list_transactions(request, params: Query[TransactionListParams]):
    query = selectors.parse_transaction_query(params.dict())
    items, next_cursor = selectors.transaction_list(
        query=query, cursor=params.cursor or None, limit=params.limit
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
    query = selectors.parse_transaction_query(params.dict())
    total, rows = selectors.transaction_export(query=query)
    return csv_response(
        filename="transactions.csv", header=selectors.EXPORT_HEADER, rows=rows, total=total
    )


@router.get("/transactions/{transaction_id}", summary="One transaction", auth=needs(Action.VIEW))
def get_transaction(request, transaction_id: str):
    return transaction_as_json(selectors.transaction_get(public_id=transaction_id))
