"""Reads for payouts: the filtered list (cursor pages), one batch with everything the detail
page shows, and the attention summary for the overview.

The list costs a fixed number of queries whatever the table size: one for the page of
batches, one aggregate over that page's items, one for the needs-attention count.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db.models import Count, Q, Sum
from django.utils import timezone

from payflow.currencies import CURRENCIES, format_amount, format_money
from payflow.models import HISTORY_ORDER
from payflow.pagination import SortSpec, newest_first_page, parse_sort, sorted_page
from payouts.attention import (
    Attention,
    ItemTotals,
    action_required_q,
    batch_attention,
    is_overdue,
)
from payouts.models import PayoutBatch, PayoutBatchEvent, PayoutItem, PayoutReconciliation
from payouts.services import retry_refusal  # noqa: F401  (views ask why not)
from payouts.settlement import Timeline, settlement_deadline, settlement_timeline
from payouts.transitions import SUBMITTED, BatchStatus, ItemStatus

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
    """One aggregate query: item counts and amounts by status for each batch id, and the
    failed or returned items not paid again (confirmed or not)."""
    rows: dict[int, list] = defaultdict(list)
    not_paid_again = Q(retried_as__isnull=True)
    aggregated = (
        PayoutItem.objects.filter(batch_id__in=list(batch_ids))
        .values_list("batch_id", "status")
        .annotate(
            n_items=Count("id"),
            sum_amount=Sum("amount"),
            n_unpaid=Count("id", filter=not_paid_again),
            sum_unpaid=Sum("amount", filter=not_paid_again),
            n_unconfirmed=Count("id", filter=not_paid_again & Q(confirmed_at__isnull=True)),
        )
        .order_by()
    )
    for batch_id, status, *numbers in aggregated:
        rows[batch_id].append((status, *numbers))
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


BATCH_SORTS = {
    "submitted_at": "submitted_at",
    "expected_settlement_date": "expected_settlement_date",
    "status": "status",
    "name": "name",
    "currency": "currency",
}
DEFAULT_BATCH_SORT = "-submitted_at"


def parse_batch_sort(value: str | None) -> SortSpec:
    """``?sort=expected_settlement_date`` etc.; ValueError("sort: ...") for anything else."""
    return parse_sort(value, allowed=BATCH_SORTS, default=DEFAULT_BATCH_SORT)


def payout_batch_list(
    *,
    filters: BatchFilters,
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
    now: dt.datetime | None = None,
    sort: SortSpec | None = None,
) -> BatchPage:
    """One page of batches, newest submission first (or ``sort``). ValueError for a bad cursor."""
    now = now or timezone.now()
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    if sort is not None:
        page, next_cursor = sorted_page(
            filtered_batches(filters, now), sort=sort, cursor=cursor, limit=limit
        )
    else:
        page, next_cursor = newest_first_page(
            filtered_batches(filters, now), time_field="submitted_at", cursor=cursor, limit=limit
        )
    totals = item_totals_for([batch.pk for batch in page])
    rows = [
        BatchRow(batch, totals[batch.pk], batch_attention(batch, totals[batch.pk], now))
        for batch in page
    ]
    return BatchPage(
        rows=rows,
        next_cursor=next_cursor,
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
    retry_of: str | None = None
    retry_of_batch: str | None = None

    @property
    def can_pay_again(self) -> bool:
        return not self.retry_refusal

    @property
    def unsuccessful(self) -> bool:
        return self.item.status in ("failed", "returned")


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

    @property
    def today(self) -> dt.date:
        """Today at the bank, for the timeline's "today" marker."""
        return self.now.astimezone(self.batch.rules.time_zone).date()

    @property
    def overdue(self) -> bool:
        return is_overdue(self.batch, self.now)


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
    items = list(batch.items.select_related("retried_as", "retry_of__batch").order_by("id"))
    totals = ItemTotals.from_items(items)
    events = list(
        PayoutBatchEvent.objects.filter(batch=batch)
        .select_related("reconciliation")
        .order_by(*HISTORY_ORDER)
    )
    latest = max((e.reconciliation_id or 0 for e in events), default=0)
    return BatchDetail(
        batch=batch,
        items=[
            ItemView(
                item=item,
                retry_refusal=retry_refusal(item, batch),
                retried_as=getattr(getattr(item, "retried_as", None), "public_id", None),
                retry_of=item.retry_of.public_id if item.retry_of else None,
                retry_of_batch=item.retry_of.batch.public_id if item.retry_of else None,
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


def amounts_text(amounts: dict[str, int], currency: str) -> str:
    """ "300.03 USD: 200.03 settled, 100.00 failed" (the parts that are not zero)."""
    parts = [
        f"{format_amount(amounts[key], currency)} {key}"
        for key in ("settled", "failed", "returned", "pending")
        if amounts[key]
    ]
    return f"{format_money(amounts['total'], currency)}: {', '.join(parts)}"


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
                "name": batch.name,
                "status": batch.status,
                "status_label": batch.status_label,
                "currency": batch.currency,
                "level": attention.level,
                "reason": attention.reason,
                "amounts": totals[batch.pk].amounts_json,
                "amounts_text": amounts_text(totals[batch.pk].amounts_json, batch.currency),
                "expected_settlement_date": batch.expected_settlement_date,
            }
        )
    return {"needs_attention": needs_attention_count(now), "batches": batches}


def latest_reconciliations(batch: PayoutBatch) -> list[PayoutReconciliation]:
    return list(batch.reconciliations.order_by("-id"))


BATCH_EXPORT_HEADER = [
    "id",
    "name",
    "status",
    "currency",
    "amount",
    "amount_minor",
    "items",
    "rail",
    "business_days",
    "submitted_at",
    "expected_settlement_date",
    "bank_time_zone",
    "settlement_deadline",
]


def payout_batch_export(*, filters: BatchFilters, sort: SortSpec, now: dt.datetime | None = None):
    """(total, rows): every filtered batch with its item totals, in chunks (memory flat).

    The expected settlement date is the bank's business date, so it is written as a date with
    the bank's zone beside it; instants are ISO 8601 UTC.
    """
    from payflow.export import CHUNK_ROWS
    from payflow.formatting import decimal_string, utc_iso

    now = now or timezone.now()
    batches = filtered_batches(filters, now).order_by(*sort.order_by())
    total = batches.count()

    def cells():
        chunk: list[PayoutBatch] = []
        for batch in batches.iterator(chunk_size=CHUNK_ROWS):
            chunk.append(batch)
            if len(chunk) >= CHUNK_ROWS:
                yield from _export_chunk(chunk, decimal_string, utc_iso)
                chunk = []
        if chunk:
            yield from _export_chunk(chunk, decimal_string, utc_iso)

    return total, cells()


def _export_chunk(chunk, decimal_string, utc_iso):
    totals = item_totals_for([batch.pk for batch in chunk])
    for batch in chunk:
        t = totals[batch.pk]
        yield [
            batch.public_id,
            batch.name,
            batch.status,
            batch.currency,
            decimal_string(t.amount, batch.currency),
            t.amount,
            t.count,
            batch.rail,
            batch.business_days,
            utc_iso(batch.submitted_at),
            batch.expected_settlement_date.isoformat(),
            batch.bank_time_zone,
            utc_iso(batch.settlement_deadline),
        ]


def settlement_calendar(*, month: dt.date | None = None, now: dt.datetime | None = None):
    """The month's weeks with, per expected settlement date (a bank date), how many batches
    settle, how many are settled and how many are overdue: one grouped query."""
    from django.db.models import Q

    from payflow.charts import month_grid
    from payouts.transitions import UNCONFIRMED

    now = now or timezone.now()
    today = now.date()
    first = (month or today).replace(day=1)
    after = (first + dt.timedelta(days=32)).replace(day=1)
    rows = (
        PayoutBatch.objects.filter(
            expected_settlement_date__gte=first, expected_settlement_date__lt=after
        )
        .values("expected_settlement_date")
        .annotate(
            batches=Count("id"),
            settled=Count("id", filter=Q(status=BatchStatus.SETTLED)),
            overdue=Count(
                "id", filter=Q(status__in=list(UNCONFIRMED), settlement_deadline__lte=now)
            ),
        )
        .order_by()
    )
    days = {
        row["expected_settlement_date"]: {
            "batches": row["batches"],
            "settled": row["settled"],
            "overdue": row["overdue"],
        }
        for row in rows
    }
    previous = (first - dt.timedelta(days=1)).replace(day=1)
    return {
        "first": first,
        "weeks": month_grid(first, days, today=today),
        "previous": previous,
        "next": after,
    }


# --- for statement matching (the reconciliation app calls these) ----------------------------


@dataclass(frozen=True)
class OpenItem:
    item_id: str
    batch_id: str
    currency: str
    amount: int
    reference: str
    expected_settlement_date: dt.date
    calendar: str
    status: str = ItemStatus.PENDING


_OPEN_FIELDS = (
    "public_id",
    "batch__public_id",
    "batch__currency",
    "amount",
    "reference",
    "batch__expected_settlement_date",
    "batch__calendar",
    "status",
)


def _open_item(row) -> OpenItem:
    return OpenItem(*row)


def open_items_for_matching(*, currency: str | None = None) -> Iterator[OpenItem]:
    """Pending items of batches that were submitted (processing, in transit, requires
    reconciliation, partially settled), streamed; plus settled items (which the bank can
    still return: for return credit lines). Ordered by item pk."""
    items = PayoutItem.objects.filter(
        Q(status=ItemStatus.PENDING, batch__status__in=list(SUBMITTED))
        | Q(status=ItemStatus.SETTLED)
    )
    if currency:
        items = items.filter(batch__currency=currency)
    for row in items.order_by("pk").values_list(*_OPEN_FIELDS).iterator(chunk_size=2000):
        yield _open_item(row)


def items_by_ids(*, item_ids: list[str]) -> dict[str, OpenItem]:
    """The named items (any status) by public id; unknown ids are left out."""
    found: dict[str, OpenItem] = {}
    for start in range(0, len(item_ids), 2000):
        chunk = item_ids[start : start + 2000]
        for row in PayoutItem.objects.filter(public_id__in=chunk).values_list(*_OPEN_FIELDS):
            found[row[0]] = _open_item(row)
    return found


def batches_needing_attention(*, limit: int = 5) -> list[dict]:
    """For the overview: the most urgent batches needing action, each with its amounts."""
    return payout_attention_summary(limit=limit)["batches"]


def payout_item_get(*, item_id: str) -> PayoutItem:
    """One item with its batch (for the pay-again confirmation). Raises DoesNotExist."""
    return PayoutItem.objects.select_related("batch").get(public_id=item_id)
