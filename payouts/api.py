"""The payouts JSON API: list (filters, cursor pages), one batch with items, reconciliations."""

from typing import Literal

from django.http import Http404
from ninja import Query, Router, Schema, Status
from pydantic import ConfigDict, Field

from payflow.accounts.roles import Action
from payflow.api import CURRENCY_ENUM, CURSOR_DOC, NON_BLANK_TEXT, needs
from payflow.exceptions import InvalidInput
from payflow.export import csv_response
from payouts import selectors, services
from payouts.models import BatchStatus, PayoutBatch

router = Router(tags=["payouts"])


class ListQuery(Schema):
    status: str | None = Field(None, json_schema_extra={"enum": list(BatchStatus.values)})
    needs_attention: str | None = Field(
        None, json_schema_extra={"enum": ["", "0", "1", "true", "false", "yes", "no", "on", "off"]}
    )
    currency: str | None = Field(None, json_schema_extra=CURRENCY_ENUM)
    settlement_from: str | None = Field(None, json_schema_extra={"format": "date"})
    settlement_to: str | None = Field(None, json_schema_extra={"format": "date"})
    cursor: str | None = Field(None, json_schema_extra=CURSOR_DOC)
    limit: int = Field(selectors.DEFAULT_PAGE_SIZE, ge=1, le=selectors.MAX_PAGE_SIZE)
    sort: str | None = Field(None, max_length=40)


class ReconciliationIn(Schema):
    model_config = ConfigDict(extra="forbid")
    outcome: Literal["settled", "partially_settled", "failed", "returned"]
    note: str = Field(json_schema_extra={"pattern": NON_BLANK_TEXT, "minLength": 1})
    bank_reference: str = ""


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


def detail_json(detail: selectors.BatchDetail) -> dict:
    timeline = detail.timeline
    return {
        **batch_json(detail.batch, detail.totals, detail.attention),
        "allowed_outcomes": detail.allowed_outcomes,
        "items": [
            {
                "id": view.item.public_id,
                "recipient_name": view.item.recipient_name,
                "account_reference": view.item.account_reference,
                "amount": view.item.amount,
                "currency": detail.batch.currency,
                "status": view.item.status,
                "failure_code": view.item.failure_code or None,
                "failure_message": view.item.failure_message or None,
                "bank_reference": view.item.bank_reference or None,
                "can_pay_again": view.item.status in {"failed", "returned"}
                and not view.retry_refusal,
                "pay_again_refused": view.retry_refusal or None,
                "paid_again_as": view.retried_as,
            }
            for view in detail.items
        ],
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
    "/payouts", summary="Payout batches, newest first (cursor pages)", auth=needs(Action.VIEW)
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
    auth=needs(Action.VIEW),
)
def export_payouts(request, query: Query[ListQuery]):
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
def get_payout(request, batch_id: str):
    try:
        return detail_json(selectors.payout_batch_detail(public_id=batch_id))
    except PayoutBatch.DoesNotExist:
        raise Http404(f"No payout batch {batch_id}.") from None


@router.post(
    "/payouts/{batch_id}/reconciliations",
    response={201: dict},
    summary="Record what the bank confirmed (note required)",
    auth=needs(Action.RECONCILE_PAYOUT),
)
def reconcile_payout(request, batch_id: str, payload: ReconciliationIn):
    try:
        record = services.payout_batch_reconcile(
            batch_id=batch_id, actor=request.auth, source="api", **payload.dict()
        )
    except PayoutBatch.DoesNotExist:
        raise Http404(f"No payout batch {batch_id}.") from None
    return Status(
        201,
        {
            "reconciliation": {
                "id": record.pk,
                "from": record.from_status,
                "outcome": record.outcome,
                "note": record.note,
                "bank_reference": record.bank_reference or None,
                "actor": record.actor_name,
                "at": _iso(record.created_at),
            },
            "batch": detail_json(selectors.payout_batch_detail(public_id=batch_id)),
        },
    )
