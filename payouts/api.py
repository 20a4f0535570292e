"""The payouts JSON API: list (filters, cursor pages), create (idempotent), one batch with
its items and amounts, per-item reconciliations (idempotent) and pay again."""

from typing import Annotated, Literal

from django.http import Http404, HttpResponse
from django.urls import reverse
from ninja import Header, Query, Router, Schema, Status
from pydantic import ConfigDict, Field

from payflow.accounts.roles import Action
from payflow.api import (
    CURRENCY_ENUM,
    CURSOR_DOC,
    NON_BLANK_TEXT,
    IfMatchHeader,
    idempotent_response,
    needs,
    sort_choices,
    sort_doc,
)
from payflow.exceptions import InvalidInput
from payflow.export import csv_response
from payflow.preconditions import parse_if_match
from payouts import selectors, services
from payouts.models import BatchStatus, PayoutBatch, Rail
from payouts.settlement import CALENDARS

router = Router(tags=["payouts"])

BatchSort = Literal[sort_choices(selectors.BATCH_SORTS)]  # type: ignore[valid-type]
LIST_RULES = "settlement_to must be on or after settlement_from (422 otherwise)."


# A date, or empty for "not given" (the list page's filter form sends its empty fields).
OPTIONAL_DATE = {
    "anyOf": [{"type": "string", "format": "date"}, {"type": "string", "maxLength": 0}],
    "description": "YYYY-MM-DD in the bank's calendar; empty means not given.",
}


class FilterQuery(Schema):
    """The list's filters and sort; the export takes these and nothing else."""

    status: str | None = Field(None, json_schema_extra={"enum": list(BatchStatus.values)})
    needs_attention: str | None = Field(
        None, json_schema_extra={"enum": ["", "0", "1", "true", "false", "yes", "no", "on", "off"]}
    )
    currency: str | None = Field(None, json_schema_extra=CURRENCY_ENUM)
    settlement_from: str | None = Field(None, json_schema_extra=OPTIONAL_DATE)
    settlement_to: str | None = Field(None, json_schema_extra=OPTIONAL_DATE)
    sort: BatchSort | None = Field(
        None, description=sort_doc(selectors.BATCH_SORTS, selectors.DEFAULT_BATCH_SORT)
    )


class ListQuery(FilterQuery):
    cursor: str | None = Field(None, json_schema_extra=CURSOR_DOC)
    limit: int = Field(selectors.DEFAULT_PAGE_SIZE, ge=1, le=selectors.MAX_PAGE_SIZE)


class ItemOutcomeIn(Schema):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(max_length=32)
    outcome: Literal["settled", "failed", "returned"]
    amount: int | None = Field(None, gt=0, le=services.MAX_ITEM_AMOUNT)
    bank_reference: str = Field("", max_length=64)
    reason_code: str = Field("", max_length=40)


def _outcome_or_items(schema: dict) -> None:
    # Nothing to record without a batch outcome or at least one item outcome.
    schema["anyOf"] = [
        {"required": ["outcome"]},
        {"required": ["items"], "properties": {"items": {"minItems": 1}}},
    ]


class ReconciliationIn(Schema):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_outcome_or_items)
    # Left out, not null, when the items say it all: the default is never validated.
    outcome: Literal["settled", "partially_settled", "failed", "returned"] = None  # type: ignore[assignment]
    note: str = Field(
        max_length=services.NOTE_MAX_LENGTH,
        json_schema_extra={"pattern": NON_BLANK_TEXT, "minLength": 1},
    )
    bank_reference: str = Field("", max_length=64)
    items: list[ItemOutcomeIn] = Field(default_factory=list, max_length=services.MAX_ITEMS)

    def item_results(self) -> list[services.ItemResult]:
        return [
            services.ItemResult(
                item_id=item.id,
                outcome=item.outcome,
                amount=item.amount,
                bank_reference=item.bank_reference,
                reason_code=item.reason_code,
            )
            for item in self.items
        ]


class RecipientIn(Schema):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=120, json_schema_extra={"pattern": NON_BLANK_TEXT})
    account: str = Field(max_length=64, json_schema_extra={"pattern": NON_BLANK_TEXT})


class NewItemIn(Schema):
    model_config = ConfigDict(extra="forbid")
    recipient: RecipientIn
    amount: int = Field(gt=0, le=services.MAX_ITEM_AMOUNT)
    reference: str = Field("", max_length=140)


class BatchIn(Schema):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=120, json_schema_extra={"pattern": NON_BLANK_TEXT})
    currency: str = Field(min_length=3, max_length=3, json_schema_extra=CURRENCY_ENUM)
    rail: Literal[tuple(Rail.values)]  # type: ignore[valid-type]
    business_days: int = Field(ge=0, le=30)
    calendar: Literal[tuple(CALENDARS)] | None = None  # type: ignore[valid-type]
    items: list[NewItemIn] = Field(min_length=1, max_length=services.MAX_ITEMS)
    submit: bool = True

    def to_input(self) -> services.BatchInput:
        return services.BatchInput(
            name=self.name,
            currency=self.currency,
            rail=self.rail,
            business_days=self.business_days,
            calendar=self.calendar,
            submit=self.submit,
            items=[
                services.NewItem(
                    item.recipient.name, item.recipient.account, item.amount, item.reference
                )
                for item in self.items
            ],
        )


class PayAgainIn(Schema):
    model_config = ConfigDict(extra="forbid")
    account: str | None = Field(
        None,
        max_length=64,
        description="A corrected account; left out (or null) keeps the original.",
        json_schema_extra={"pattern": NON_BLANK_TEXT},
    )
    recipient_name: str | None = Field(None, max_length=120)


def _iso(value):
    return value.isoformat() if value is not None else None


def batch_json(batch, totals, attention) -> dict:
    return {
        "id": batch.public_id,
        "name": batch.name,
        "status": batch.status,
        "currency": batch.currency,
        "rail": batch.rail,
        "business_days": batch.business_days,
        "calendar": batch.calendar,
        "bank_time_zone": batch.bank_time_zone,
        "cutoff": batch.cutoff.strftime("%H:%M"),
        "submitted_at": _iso(batch.submitted_at),
        "expected_settlement_date": _iso(batch.expected_settlement_date),
        "settlement_deadline": _iso(batch.settlement_deadline),
        "item_count": totals.count,
        "total_amount": totals.amount,
        "amounts": totals.amounts_json,
        "item_counts": totals.counts,
        "item_amounts": totals.amounts,
        "attention": {
            "level": attention.level,
            "reason": attention.reason,
            "action_required": attention.action_required,
        },
        "reconciled_at": _iso(batch.reconciled_at),
        "reconciled_by": batch.reconciled_by_name or None,
    }


def item_json(view: selectors.ItemView, batch) -> dict:
    item = view.item
    return {
        "id": item.public_id,
        "recipient_name": item.recipient_name,
        "account_reference": item.account_reference,
        "amount": item.amount,
        "currency": batch.currency,
        "reference": item.reference or None,
        "status": item.status,
        "confirmed": item.confirmed_at is not None,
        "confirmed_at": _iso(item.confirmed_at),
        "confirmed_amount": item.confirmed_amount,
        "reason_code": item.reason_code or None,
        "failure_code": item.reason_code or None,
        "failure_message": item.failure_message or None,
        "bank_reference": item.bank_reference or None,
        "statement_line": item.statement_line_id or None,
        "can_pay_again": not view.retry_refusal,
        "pay_again_refused": view.retry_refusal or None,
        "paid_again_as": view.retried_as,
        "retry_of": view.retry_of,
        "links": _item_links(item, batch),
    }


def _item_links(item, batch) -> dict:
    links = {
        "page": reverse("payouts:item", args=[item.public_id]),
        "payout_batch": f"/api/v1/payouts/{batch.public_id}",
    }
    if item.statement_line_id:
        # The line that confirmed the item (its latest statement result), on its statement.
        links["statement_line"] = f"/api/v1/bank-statement-lines/{item.statement_line_id}"
        links["statement_line_page"] = reverse("reconciliation:line", args=[item.statement_line_id])
    return links


def detail_json(detail: selectors.BatchDetail) -> dict:
    timeline = detail.timeline
    return {
        **batch_json(detail.batch, detail.totals, detail.attention),
        "allowed_outcomes": detail.allowed_outcomes,
        "items": [item_json(view, detail.batch) for view in detail.items],
        "timeline": {
            "submitted_at": _iso(timeline.submitted_at),
            "cutoff_at": _iso(timeline.cutoff_at),
            "before_cutoff": timeline.before_cutoff,
            "effective_day": _iso(timeline.effective_day),
            "expected_settlement_date": _iso(timeline.settlement_date),
            "days": [
                {
                    "date": _iso(day.date),
                    "kind": day.kind,
                    "holiday": day.holiday_name,
                    "business_day": day.business_day,
                }
                for day in timeline.days
            ],
        },
        "history": [
            {
                "kind": event.kind,
                "from": event.from_status or None,
                "to": event.to_status or None,
                "reason": event.reason,
                "actor": event.actor_name,
                "source": event.source,
                "at": _iso(event.created_at),
                "bank_reference": (
                    event.reconciliation.bank_reference or None if event.reconciliation else None
                ),
            }
            for event in detail.events
        ],
    }


@router.get(
    "/payouts",
    summary="Payout batches, newest first (cursor pages)",
    description=LIST_RULES,
    auth=needs(Action.VIEW),
)
def list_payouts(request, query: Query[ListQuery]):
    filters, errors = selectors.parse_filters(query.dict())
    sort = _sort(query.sort, errors) if query.sort else None
    if errors:
        raise InvalidInput.for_fields(errors)
    try:
        page = selectors.payout_batch_list(
            filters=filters, cursor=query.cursor, limit=query.limit, sort=sort
        )
    except ValueError as exc:
        raise InvalidInput(str(exc), fields={"cursor": [str(exc)]}) from exc
    return {
        "items": [batch_json(row.batch, row.totals, row.attention) for row in page.rows],
        "next_cursor": page.next_cursor,
        "needs_attention_count": page.needs_attention_count,
    }


def _sort(value, errors):
    try:
        return selectors.parse_batch_sort(value)
    except ValueError as exc:
        errors["sort"] = [str(exc).removeprefix("sort: ")]
        return None


@router.get(
    "/payouts/export.csv",
    summary="Every filtered payout batch as CSV (the list's filters and sort; streamed)",
    description=LIST_RULES,
    auth=needs(Action.VIEW),
)
def export_payouts(request, query: Query[FilterQuery]):
    filters, errors = selectors.parse_filters(query.dict())
    sort = _sort(query.sort, errors)
    if errors:
        raise InvalidInput.for_fields(errors)
    total, rows = selectors.payout_batch_export(filters=filters, sort=sort)
    return csv_response(
        filename="payouts.csv", header=selectors.BATCH_EXPORT_HEADER, rows=rows, total=total
    )


@router.get(
    "/payouts/{batch_id}",
    summary="One payout batch with items, timeline and history",
    auth=needs(Action.VIEW),
)
def get_payout(request, response: HttpResponse, batch_id: str):
    try:
        detail = selectors.payout_batch_detail(public_id=batch_id)
    except PayoutBatch.DoesNotExist:
        raise Http404(f"No payout batch {batch_id}.") from None
    response["ETag"] = detail.batch.etag()
    return detail_json(detail)


def _detail_body(batch_id: str) -> dict:
    return detail_json(selectors.payout_batch_detail(public_id=batch_id))


@router.post(
    "/payouts",
    response={201: dict},
    summary="Create a payout batch with its items (submitted with submit=true); needs "
    "Idempotency-Key",
    auth=needs(Action.CREATE_PAYOUT),
)
def create_payout(
    request,
    payload: BatchIn,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
):
    outcome = services.payout_batch_create_idempotent(
        user=request.auth,
        idempotency_key=idempotency_key,
        data=payload.to_input(),
        source="api",
        render=lambda batch: _detail_body(batch.public_id),
    )
    return idempotent_response(outcome)


@router.post(
    "/payouts/{batch_id}/reconciliations",
    response={201: dict},
    summary="Record what the bank confirmed, per item or for the batch (note and "
    "Idempotency-Key required)",
    description="Give outcome, or at least one item in items (the schema's anyOf). A failed or "
    "returned item needs the bank's reason_code unless it already has that outcome with a "
    "code (a confirmation); each item is named once and must belong to the batch (422). "
    "Refused with 409 because they depend on the batch: a pending batch, a batch reconciled "
    "by someone else meanwhile, an outcome the batch's status or its items do not allow.",
    auth=needs(Action.RECONCILE_PAYOUT),
)
def reconcile_payout(
    request,
    batch_id: str,
    payload: ReconciliationIn,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
    if_match: IfMatchHeader = None,
):
    def render(record) -> dict:
        return {
            "reconciliation": {
                "id": record.pk,
                "from": record.from_status,
                "outcome": record.outcome,
                "note": record.note,
                "bank_reference": record.bank_reference or None,
                "items": [
                    {"id": result.item.public_id, "from": result.from_status, "to": result.outcome}
                    for result in record.item_results.select_related("item").order_by("id")
                ],
                "actor": record.actor_name,
                "at": _iso(record.created_at),
            },
            "batch": _detail_body(batch_id),
        }

    outcome = services.payout_batch_reconcile_idempotent(
        user=request.auth,
        idempotency_key=idempotency_key,
        batch_id=batch_id,
        outcome=payload.outcome,
        items=payload.item_results(),
        note=payload.note,
        bank_reference=payload.bank_reference,
        source="api",
        render=render,
        if_match=parse_if_match(if_match),
    )
    return idempotent_response(outcome)


@router.post(
    "/payouts/items/{item_id}/pay-again",
    response={201: dict},
    summary="Pay a confirmed failed or returned item again (once), optionally to a corrected "
    "account",
    description="Refused with 409 (retry_not_allowed) when the item's state does not allow "
    "it, e.g. its failure or return is not confirmed yet, or it was paid again already.",
    auth=needs(Action.RECONCILE_PAYOUT),
)
def pay_again(
    request,
    item_id: str,
    payload: PayAgainIn,
    if_match: IfMatchHeader = None,
):
    new_item = services.payout_item_retry(
        item_id=item_id,
        actor=request.auth,
        source="api",
        account_reference=payload.account,
        recipient_name=payload.recipient_name,
        if_match=parse_if_match(if_match),
    )
    return Status(
        201,
        {
            "item": {
                "id": new_item.public_id,
                "retry_of": item_id,
                "account_reference": new_item.account_reference,
            },
            "batch": _detail_body(new_item.batch.public_id),
        },
    )
