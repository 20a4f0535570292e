"""The one "needs attention" rule for payout batches: a level and a one-sentence reason.

The list, the detail page, the API, the admin and the overview all call ``batch_attention``;
``action_required_q`` is the same rule's action-required branch as a database filter (a test
checks that the two agree on every status, item mix and clock).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Exists, OuterRef, Q

from payouts.transitions import UNCONFIRMED, BatchStatus, ItemStatus

NONE, INFO, WARNING, ACTION_REQUIRED = "none", "info", "warning", "action_required"
LEVELS = (NONE, INFO, WARNING, ACTION_REQUIRED)
# Final or partial outcomes that need a person until a reconciliation confirms them.
NEEDS_RECONCILIATION = frozenset(
    {BatchStatus.PARTIALLY_SETTLED, BatchStatus.FAILED, BatchStatus.RETURNED}
)


@dataclass(frozen=True)
class ItemTotals:
    """Counts and amounts (minor units) of a batch's items, overall and by item status, and
    the failed or returned items not paid again (``unpaid``; ``unconfirmed`` of them the bank
    has not confirmed yet)."""

    count: int = 0
    amount: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    amounts: dict[str, int] = field(default_factory=dict)
    unpaid_count: int = 0
    unpaid_amount: int = 0
    unconfirmed_unpaid_count: int = 0

    @classmethod
    def from_rows(cls, rows) -> ItemTotals:
        """``rows``: (status, count, amount[, unpaid, unpaid_amount, unconfirmed]) tuples."""
        counts: dict[str, int] = dict.fromkeys(ItemStatus.values, 0)
        amounts: dict[str, int] = dict.fromkeys(ItemStatus.values, 0)
        unpaid = unpaid_amount = unconfirmed = 0
        for status, count, amount, *more in rows:
            counts[status] += count
            amounts[status] += amount or 0
            if status in (ItemStatus.FAILED, ItemStatus.RETURNED):
                more = more or [count, amount, 0]
                unpaid += more[0] or 0
                unpaid_amount += more[1] or 0
                unconfirmed += min(more[2] or 0, more[0] or 0)
        return cls(
            sum(counts.values()),
            sum(amounts.values()),
            counts,
            amounts,
            unpaid,
            unpaid_amount,
            unconfirmed,
        )

    @classmethod
    def from_items(cls, items) -> ItemTotals:
        rows = []
        for item in items:
            try:
                paid_again = item.retried_as is not None
            except ObjectDoesNotExist:
                paid_again = False
            unpaid = 0 if paid_again else 1
            unconfirmed = 1 if unpaid and item.confirmed_at is None else 0
            rows.append((item.status, 1, item.amount, unpaid, item.amount * unpaid, unconfirmed))
        return cls.from_rows(rows)

    @property
    def unsuccessful_count(self) -> int:
        return self.counts.get(ItemStatus.FAILED, 0) + self.counts.get(ItemStatus.RETURNED, 0)

    @property
    def unsuccessful_amount(self) -> int:
        return self.amounts.get(ItemStatus.FAILED, 0) + self.amounts.get(ItemStatus.RETURNED, 0)

    @property
    def amounts_json(self) -> dict[str, int]:
        """``{"total", "settled", "failed", "returned", "pending"}``; the parts add up."""
        return {"total": self.amount, **{status: self.amounts[status] for status in AMOUNT_KEYS}}


AMOUNT_KEYS = ("settled", "failed", "returned", "pending")


@dataclass(frozen=True)
class Attention:
    level: str
    reason: str

    @property
    def action_required(self) -> bool:
        return self.level == ACTION_REQUIRED

    @property
    def headline(self) -> str:
        return "Action required" if self.action_required else "No action required"

    @property
    def badge(self) -> str:
        return {
            NONE: "badge-ok",
            INFO: "badge-info",
            WARNING: "badge-warn",
            ACTION_REQUIRED: "badge-danger",
        }[self.level]


def _day(day: dt.date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def _money(amount: int, currency: str) -> str:
    from payflow.currencies import format_money  # one exponent table for the whole app

    return format_money(amount, currency)


def _reconciled_by(batch) -> str:
    on = batch.reconciled_at.astimezone(batch.rules.time_zone).date()
    return f"reconciled by {batch.reconciled_by_name or 'an operator'} on {_day(on)}"


def is_reconciled(batch) -> bool:
    """A reconciliation was recorded at or after the batch reached its current status."""
    return batch.reconciled_at is not None and batch.reconciled_at >= batch.status_changed_at


def is_overdue(batch, now: dt.datetime) -> bool:
    return batch.status in UNCONFIRMED and now >= batch.settlement_deadline


def batch_attention(batch, totals: ItemTotals, now: dt.datetime) -> Attention:
    """The attention level and reason for ``batch`` at ``now`` given its items' totals.

    Action required: the bank's report does not match; any failed or returned item not paid
    again (unconfirmed: reconcile first; confirmed: pay it again), so unpaid money never drops
    out of sight; or past the expected settlement without the bank's confirmation.
    """
    status, currency = batch.status, batch.currency
    expected = _day(batch.expected_settlement_date)
    if status == BatchStatus.REQUIRES_RECONCILIATION:
        return Attention(
            ACTION_REQUIRED,
            "The bank's report does not match what was sent; record what the bank confirmed.",
        )
    if totals.unpaid_count:
        what = (
            f"{totals.unpaid_count} of {totals.count} items failed or were returned "
            f"({_money(totals.unpaid_amount, currency)})"
        )
        if totals.unconfirmed_unpaid_count:
            reason = (
                f"{what} and the bank has not confirmed it; reconcile with the bank before "
                "paying them again."
            )
        else:
            reason = f"{what}, confirmed by the bank and not paid again; pay them again."
        return Attention(ACTION_REQUIRED, reason)
    if is_overdue(batch, now):
        return Attention(
            ACTION_REQUIRED,
            f"Expected to settle on {expected} but the bank has not confirmed it; chase the "
            "bank and record a reconciliation.",
        )
    if status in NEEDS_RECONCILIATION:
        paid = (
            f"; {totals.unsuccessful_count} failed or returned item(s) "
            f"({_money(totals.unsuccessful_amount, currency)}) paid again"
            if totals.unsuccessful_count
            else ""
        )
        by = f", {_reconciled_by(batch)}" if batch.reconciled_at else ""
        return Attention(
            INFO if status == BatchStatus.PARTIALLY_SETTLED else NONE,
            f"{batch.get_status_display()}{by}{paid}.",
        )
    if status == BatchStatus.SETTLED:
        settled = f"Settled ({_money(totals.amounts.get('settled', 0), currency)})"
        return Attention(
            NONE, f"{settled}, {_reconciled_by(batch)}." if batch.reconciled_at else f"{settled}."
        )
    today_at_bank = now.astimezone(batch.rules.time_zone).date()
    if today_at_bank == batch.expected_settlement_date:
        return Attention(
            WARNING,
            "Settlement is due today; if the bank has not confirmed it by the end of the day "
            "it becomes overdue.",
        )
    stage = {
        BatchStatus.PENDING: "Waiting to be sent to the bank",
        BatchStatus.PROCESSING: "Being processed by the bank",
        BatchStatus.IN_TRANSIT: "In transit",
    }[status]
    return Attention(INFO, f"{stage}; expected to settle on {expected}.")


def unpaid_failures_q() -> Q:
    """Batches holding a failed or returned item that has not been paid again."""
    from payouts.models import PayoutItem

    return Q(
        Exists(
            PayoutItem.objects.filter(
                batch=OuterRef("pk"),
                status__in=[ItemStatus.FAILED, ItemStatus.RETURNED],
                retried_as__isnull=True,
            )
        )
    )


def action_required_q(now: dt.datetime) -> Q:
    """The action-required branch of ``batch_attention`` as a filter on PayoutBatch."""
    return (
        Q(status=BatchStatus.REQUIRES_RECONCILIATION)
        | unpaid_failures_q()
        | Q(status__in=UNCONFIRMED, settlement_deadline__lte=now)
    )
