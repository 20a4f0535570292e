"""Reads for payouts: the filtered list (cursor pages), one batch with everything the detail
page shows, and the attention summary for the overview.

The list costs a fixed number of queries whatever the table size: one for the page of
batches, one aggregate over that page's items, one for the needs-attention count.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Sum
from django.utils import timezone

from payflow.currencies import CURRENCIES
from payflow.pagination import after_cursor, encode_cursor
from payouts.attention import Attention, ItemTotals, action_required_q, batch_attention
from payouts.models import PayoutBatch, PayoutBatchEvent, PayoutItem, PayoutReconciliation
from payouts.services import retry_refusal
from payouts.settlement import Timeline, settlement_deadline, settlement_timeline
from payouts.transitions import BatchStatus

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class BatchFilters:
    status: str | None = None
    needs_attention: bool = False
    currency: str | None = None
    settlement_from: dt.date | None = None
    settlement_to: dt.date | None = None

    def as_query(self) -> dict[str, str]:
        query = {
            "status": self.status or "",
            "needs_attention": "1" if self.needs_attention else "",
            "currency": self.currency or "",
            "settlement_from": self.settlement_from.isoformat() if self.settlement_from else "",
            "settlement_to": self.settlement_to.isoformat() if self.settlement_to else "",
        }
        return {key: value for key, value in query.items() if value}


def _parse_date(value: str, name: str, errors: dict) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        errors[name] = [f"{value!r} is not a date; use YYYY-MM-DD."]
        return None


def parse_filters(params) -> tuple[BatchFilters, dict[str, list[str]]]:
    """Filters from query parameters; bad values are reported by field name and ignored."""
    errors: dict[str, list[str]] = {}
    status = (params.get("status") or "").strip() or None
    if status and status not in BatchStatus.values:
        known = ", ".join(BatchStatus.values)
        errors["status"] = [f"Unknown status {status!r}; use one of {known}."]
        status = None
    raw_attention = (params.get("needs_attention") or "").strip().lower()
    if raw_attention not in {"", "0", "1", "true", "false", "yes", "no", "on", "off"}:
        errors["needs_attention"] = ["Use 1 (only batches needing attention) or 0."]
    currency = (params.get("currency") or "").strip().upper() or None
    if currency and currency not in CURRENCIES:
        errors["currency"] = [f"Unknown currency {currency!r}; use an ISO 4217 code like USD."]
        currency = None
    start = _parse_date((params.get("settlement_from") or "").strip(), "settlement_from", errors)
    end = _parse_date((params.get("settlement_to") or "").strip(), "settlement_to", errors)
    if start and end and start > end:
        errors["settlement_to"] = ["Must be on or after settlement_from."]
        end = None
    filters = BatchFilters(
        status=status,
        needs_attention=raw_attention in {"1", "true", "yes", "on"},
        currency=currency,
        settlement_from=start,
        settlement_to=end,
    )
    return filters, errors


def filtered_batches(filters: BatchFilters, now: dt.datetime):
    batches = PayoutBatch.objects.all()
    if filters.status:
        batches = batches.filter(status=filters.status)
    if filters.needs_attention:
        batches = batches.filter(action_required_q(now))
    if filters.currency:
        batches = batches.filter(currency=filters.currency)
    if filters.settlement_from:
        batches = batches.filter(expected_settlement_date__gte=filters.settlement_from)
    if filters.settlement_to:
        batches = batches.filter(expected_settlement_date__lte=filters.settlement_to)
    return batches


def item_totals_for(batch_ids) -> dict[int, ItemTotals]:
    """One aggregate query: item counts and amounts by status for each batch id."""
    rows: dict[int, list] = defaultdict(list)
    aggregated = (
        PayoutItem.objects.filter(batch_id__in=list(batch_ids))
        .values_list("batch_id", "status")
        .annotate(count=Count("id"), amount=Sum("amount"))
        .order_by()
    )
    for batch_id, status, count, amount in aggregated:
        rows[batch_id].append((status, count, amount))
    return {batch_id: ItemTotals.from_rows(rows.get(batch_id, [])) for batch_id in batch_ids}


@dataclass(frozen=True)
class BatchRow:
    batch: PayoutBatch
    totals: ItemTotals
    attention: Attention


@dataclass(frozen=True)
class BatchPage:
    rows: list[BatchRow]
    next_cursor: str | None
    needs_attention_count: int
    now: dt.datetime


def needs_attention_count(now: dt.datetime | None = None) -> int:
    return PayoutBatch.objects.filter(action_required_q(now or timezone.now())).count()


def payout_batch_list(
    *,
    filters: BatchFilters,
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
    now: dt.datetime | None = None,
) -> BatchPage:
    """One page of batches, newest submission first. Raises ValueError for a bad cursor."""
    now = now or timezone.now()
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    batches = filtered_batches(filters, now).order_by("-submitted_at", "-id")
    if cursor:
        batches = after_cursor(batches, cursor, time_field="submitted_at")
    page = list(batches[: limit + 1])
    more, page = len(page) > limit, page[:limit]
    totals = item_totals_for([batch.pk for batch in page])
    rows = [
        BatchRow(batch, totals[batch.pk], batch_attention(batch, totals[batch.pk], now))
        for batch in page
    ]
    return BatchPage(
        rows=rows,
        next_cursor=encode_cursor(page[-1].submitted_at, page[-1].pk) if more and page else None,
        needs_attention_count=needs_attention_count(now),
        now=now,
    )


def payout_batch_get(*, public_id: str) -> PayoutBatch:
    """Raises PayoutBatch.DoesNotExist."""
    return PayoutBatch.objects.get(public_id=public_id)


@dataclass
class ItemView:
    item: PayoutItem
    retry_refusal: str
    retried_as: str | None


@dataclass
class BatchDetail:
    batch: PayoutBatch
    items: list[ItemView]
    totals: ItemTotals
    attention: Attention
    timeline: Timeline
    deadline: dt.datetime
    events: list[PayoutBatchEvent]
    latest_reconciliation_id: int
    now: dt.datetime
    allowed_outcomes: list[str] = field(default_factory=list)


def reconciliation_outcomes_for(batch: PayoutBatch) -> list[str]:
    """Outcomes a reconciliation may record now: the legal moves, or the status itself when
    the batch is final (a note without a move)."""
    from payouts.transitions import RECONCILIATION_OUTCOMES, TERMINAL

    if batch.status in TERMINAL:
        return [batch.status]
    return [outcome for outcome in RECONCILIATION_OUTCOMES if outcome in batch.allowed_targets]


def payout_batch_detail(*, public_id: str, now: dt.datetime | None = None) -> BatchDetail:
    now = now or timezone.now()
    batch = payout_batch_get(public_id=public_id)
    items = list(batch.items.select_related("retried_as").order_by("id"))
    totals = ItemTotals.from_rows((item.status, 1, item.amount) for item in items)
    events = list(
        PayoutBatchEvent.objects.filter(batch=batch)
        .select_related("reconciliation")
        .order_by("-id")
    )
    latest = max((e.reconciliation_id or 0 for e in events), default=0)
    return BatchDetail(
        batch=batch,
        items=[
            ItemView(
                item=item,
                retry_refusal=retry_refusal(item, batch)
                if item.status in {"failed", "returned"}
                else "",
                retried_as=getattr(getattr(item, "retried_as", None), "public_id", None),
            )
            for item in items
        ],
        totals=totals,
        attention=batch_attention(batch, totals, now),
        timeline=settlement_timeline(
            batch.submitted_at, batch.business_days, batch.calendar, rules=batch.rules
        ),
        deadline=settlement_deadline(batch.expected_settlement_date, batch.rules),
        events=events,
        latest_reconciliation_id=latest,
        now=now,
        allowed_outcomes=reconciliation_outcomes_for(batch),
    )


def payout_attention_summary(*, limit: int = 5) -> dict:
    """For the overview: how many batches need action, and the most urgent few."""
    now = timezone.now()
    urgent = list(
        PayoutBatch.objects.filter(action_required_q(now)).order_by(
            "expected_settlement_date", "id"
        )[:limit]
    )
    totals = item_totals_for([batch.pk for batch in urgent])
    batches = []
    for batch in urgent:
        attention = batch_attention(batch, totals[batch.pk], now)
        batches.append(
            {
                "id": batch.public_id,
                "status": batch.status,
                "level": attention.level,
                "reason": attention.reason,
                "expected_settlement_date": batch.expected_settlement_date,
            }
        )
    return {"needs_attention": needs_attention_count(now), "batches": batches}


def latest_reconciliations(batch: PayoutBatch) -> list[PayoutReconciliation]:
    return list(batch.reconciliations.order_by("-id"))


# --- interface stub (statements helper) ---
# Thin temporary versions of the interface in INTERFACE-payouts.md; the lead replaces this block
# with the payouts helper's real functions at merge.
@dataclass(frozen=True)
class OpenItem:
    item_id: str
    batch_id: str
    currency: str
    amount: int
    reference: str
    expected_settlement_date: dt.date
    calendar: str


_MATCHABLE_BATCH_STATUSES = (
    BatchStatus.PROCESSING,
    BatchStatus.IN_TRANSIT,
    BatchStatus.REQUIRES_RECONCILIATION,
    BatchStatus.PARTIALLY_SETTLED,
)


def _open_item(row) -> OpenItem:
    return OpenItem(
        item_id=row["public_id"],
        batch_id=row["batch__public_id"],
        currency=row["batch__currency"],
        amount=row["amount"],
        reference="",
        expected_settlement_date=row["batch__expected_settlement_date"],
        calendar=row["batch__calendar"],
    )


_OPEN_ITEM_FIELDS = (
    "public_id",
    "batch__public_id",
    "batch__currency",
    "amount",
    "batch__expected_settlement_date",
    "batch__calendar",
)


def open_items_for_matching(*, currency: str | None = None):
    from django.db.models import Q

    rows = PayoutItem.objects.filter(
        Q(status="pending", batch__status__in=_MATCHABLE_BATCH_STATUSES) | Q(status="settled")
    )
    if currency:
        rows = rows.filter(batch__currency=currency)
    for row in rows.order_by("pk").values(*_OPEN_ITEM_FIELDS).iterator(chunk_size=2000):
        yield _open_item(row)


def items_by_ids(*, item_ids: list[str]) -> dict[str, OpenItem]:
    rows = PayoutItem.objects.filter(public_id__in=item_ids).values(*_OPEN_ITEM_FIELDS)
    return {row["public_id"]: _open_item(row) for row in rows}


# --- end interface stub (statements helper) ---
