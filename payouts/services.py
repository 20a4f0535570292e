"""Writes for payouts: create a batch, move its status, record item results, reconcile, retry.

Every status move goes through ``_move`` while the batch row is locked: the model's transition
guard, the append-only history row and the stream event (outbox) commit together or not at
all; metrics are counted after the commit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from payflow import metrics
from payflow.currencies import UnknownCurrency, get_currency
from payflow.exceptions import DomainError
from payflow.observability import current_request_id
from payouts.models import RAIL_CALENDARS, PayoutBatch, PayoutBatchEvent, PayoutItem, Rail
from payouts.models import PayoutReconciliation as Reconciliation
from payouts.settlement import (
    CALENDARS,
    MAX_BUSINESS_DAYS,
    calendar_rules,
    expected_settlement_date,
    settlement_deadline,
)
from payouts.transitions import (
    ITEM_TRANSITIONS,
    RECONCILIATION_OUTCOMES,
    TERMINAL,
    BatchStatus,
    ItemStatus,
    blocked_reason,
    is_legal,
)
from transactions.events import record_transaction_event

NOTE_MAX_LENGTH = 2000
BANK_REFERENCE_MAX_LENGTH = 64


class PayoutError(DomainError):
    """A refused payout write; ``status`` and ``code`` are what the API answers."""

    status = 400
    code = "payout_error"


class InvalidPayoutInput(PayoutError):
    status = 422
    code = "validation_error"


class IllegalTransition(PayoutError):
    status = 409
    code = "illegal_transition"


class AlreadyReconciled(PayoutError):
    status = 409
    code = "already_reconciled"


class TransitionConflict(PayoutError):
    status = 409
    code = "transition_conflict"


class RetryRefused(PayoutError):
    status = 409
    code = "retry_not_allowed"


@dataclass
class NewItem:
    recipient_name: str
    account_reference: str
    amount: int


@dataclass
class _Actor:
    user: object | None
    source: str
    name: str = field(init=False)

    def __post_init__(self):
        self.name = self.user.get_username() if self.user is not None else "system"


def _invalid(field_name: str, message: str) -> InvalidPayoutInput:
    return InvalidPayoutInput(f"Invalid value for: {field_name}.", fields={field_name: [message]})


def _batch_total(batch: PayoutBatch) -> int:
    return PayoutItem.objects.filter(batch=batch).aggregate(total=Sum("amount"))["total"] or 0


def _event(batch, kind, actor: _Actor, now, *, from_status="", to_status="", reason="", **kw):
    return PayoutBatchEvent.objects.create(
        batch=batch,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        actor=actor.user,
        actor_name=actor.name,
        source=actor.source,
        request_id=current_request_id(),
        created_at=now,
        **kw,
    )


def _locked_batch(public_id: str) -> PayoutBatch:
    """Call inside ``transaction.atomic()``: the batch row, locked until the commit."""
    return PayoutBatch.objects.select_for_update(of=("self",)).get(public_id=public_id)


def _move(
    batch: PayoutBatch,
    to: str,
    *,
    actor: _Actor,
    reason: str,
    now: dt.datetime,
    kind: str = PayoutBatchEvent.Kind.STATUS,
    reconciliation: Reconciliation | None = None,
    extra_fields: tuple[str, ...] = (),
) -> None:
    """Move a batch locked by the caller: guard, save, history row, stream event."""
    source = batch.status
    if not is_legal(source, to):
        raise IllegalTransition(
            blocked_reason(source, to),
            **{"from": source, "to": to, "allowed": list(batch.allowed_targets)},
            reason=blocked_reason(source, to),
        )
    try:
        getattr(batch, f"to_{to}")()
        batch.status_changed_at = now
        batch.save(update_fields=["status", "status_changed_at", *extra_fields])
    except TransitionNotAllowed as exc:  # the table and the guards disagree: a bug, say so
        raise IllegalTransition(str(exc), **{"from": source, "to": to}) from exc
    except ConcurrentTransition as exc:
        raise TransitionConflict(
            "The batch changed while this change was being made; reload and try again.",
            **{"from": source, "to": to},
        ) from exc
    _event(
        batch,
        kind,
        actor,
        now,
        from_status=source,
        to_status=to,
        reason=reason,
        reconciliation=reconciliation,
    )
    record_transaction_event(
        kind="payout",
        amount=_batch_total(batch),
        currency=batch.currency,
        status=to,
        merchant=batch.name[:120],
        payout_ref=batch.public_id,
        occurred_at=now,
    )
    transaction.on_commit(lambda: metrics.PAYOUT_TRANSITIONS.labels(source=source, target=to).inc())


def check_new_batch(*, name, currency, rail, business_days, calendar, items) -> None:
    """Refuse bad input naming the field; nothing is written."""
    if not (name or "").strip():
        raise _invalid("name", "Give the batch a name.")
    try:
        get_currency(currency)
    except UnknownCurrency as exc:
        raise _invalid("currency", str(exc)) from None
    if rail not in Rail.values:
        raise _invalid("rail", f"Use one of {', '.join(Rail.values)}.")
    if isinstance(business_days, bool) or not isinstance(business_days, int):
        raise _invalid("business_days", "Must be a whole number of business days.")
    if not 0 <= business_days <= MAX_BUSINESS_DAYS:
        raise _invalid("business_days", f"Must be between 0 and {MAX_BUSINESS_DAYS}.")
    if calendar not in CALENDARS:
        raise _invalid("calendar", f"Use one of {', '.join(CALENDARS)}.")
    if not items:
        raise _invalid("items", "A batch needs at least one item.")
    for item in items:
        if isinstance(item.amount, bool) or not isinstance(item.amount, int) or item.amount <= 0:
            raise _invalid("items.amount", "Each amount is a positive whole number of minor units.")


def payout_batch_create(
    *,
    name: str,
    currency: str,
    rail: str,
    business_days: int,
    items: list[NewItem],
    calendar: str | None = None,
    submitted_at: dt.datetime | None = None,
    actor=None,
    source: str = "system",
) -> PayoutBatch:
    """Create a pending batch with its items; the expected settlement date is fixed now."""
    calendar = calendar or RAIL_CALENDARS.get(rail, "US")
    check_new_batch(
        name=name,
        currency=currency,
        rail=rail,
        business_days=business_days,
        calendar=calendar,
        items=items,
    )
    now = timezone.now()
    submitted_at = submitted_at or now
    rules = calendar_rules(calendar)
    settles = expected_settlement_date(submitted_at, business_days, calendar, rules=rules)
    who = _Actor(actor, source)
    with transaction.atomic():
        batch = PayoutBatch.objects.create(
            name=name.strip(),
            currency=currency,
            rail=rail,
            business_days=business_days,
            calendar=calendar,
            bank_time_zone=str(rules.time_zone),
            cutoff=rules.cutoff,
            submitted_at=submitted_at,
            expected_settlement_date=settles,
            settlement_deadline=settlement_deadline(settles, rules),
            status_changed_at=submitted_at,
            created_by=actor,
        )
        PayoutItem.objects.bulk_create(
            [
                PayoutItem(
                    batch=batch,
                    recipient_name=item.recipient_name,
                    account_reference=item.account_reference,
                    amount=item.amount,
                )
                for item in items
            ],
            batch_size=1000,
        )
        _event(
            batch,
            PayoutBatchEvent.Kind.CREATED,
            who,
            submitted_at,
            to_status=BatchStatus.PENDING,
            reason=f"Submitted {len(items)} items, T+{business_days} on {rules.label}.",
        )
    return batch


def payout_batch_transition(
    *, batch_id: str, to: str, actor=None, reason: str = "", source: str = "system"
) -> PayoutBatch:
    """Move a batch to ``to`` (a legal move of SPEC section 4) or raise IllegalTransition."""
    if to not in BatchStatus.values:
        raise _invalid("to", f"Use one of {', '.join(BatchStatus.values)}.")
    with transaction.atomic():
        batch = _locked_batch(batch_id)
        _move(batch, to, actor=_Actor(actor, source), reason=reason, now=timezone.now())
    return batch


def payout_item_record_result(
    *,
    item_id: str,
    to: str,
    failure_code: str = "",
    failure_message: str = "",
    bank_reference: str = "",
    actor=None,
    source: str = "system",
) -> PayoutItem:
    """The bank's answer for one item: settled, failed (with a code) or returned."""
    if to not in (ItemStatus.SETTLED, ItemStatus.FAILED, ItemStatus.RETURNED):
        raise _invalid("to", "Use settled, failed or returned.")
    if to != ItemStatus.SETTLED and not failure_code.strip():
        raise _invalid("failure_code", "A failed or returned item needs the bank's code.")
    with transaction.atomic():
        batch_id = PayoutItem.objects.values_list("batch__public_id", flat=True).get(
            public_id=item_id
        )
        batch = _locked_batch(batch_id)
        item = PayoutItem.objects.select_for_update().get(public_id=item_id)
        if batch.status in TERMINAL or batch.status == BatchStatus.PENDING:
            raise IllegalTransition(
                f"Items of a {batch.get_status_display().lower()} batch take no bank results.",
                **{"from": item.status, "to": to, "allowed": []},
            )
        if to not in ITEM_TRANSITIONS[item.status]:
            raise IllegalTransition(
                f"A {item.status} item cannot become {to}.",
                **{"from": item.status, "to": to, "allowed": list(ITEM_TRANSITIONS[item.status])},
            )
        now = timezone.now()
        source_status = item.status
        item.status = to
        item.failure_code = failure_code.strip()[:40]
        item.failure_message = failure_message.strip()[:255]
        item.bank_reference = bank_reference.strip()[:64] or item.bank_reference
        item.resolved_at = now
        item.save()
        detail = f" ({item.failure_code}: {item.failure_message})" if item.failure_code else ""
        _event(
            batch,
            PayoutBatchEvent.Kind.ITEM,
            _Actor(actor, source),
            now,
            from_status=source_status,
            to_status=to,
            reason=f"Item {item.public_id} to {item.recipient_name}: {to}{detail}.",
        )
    return item


def _check_reconciliation_input(*, outcome: str, note: str, bank_reference: str) -> None:
    if outcome not in RECONCILIATION_OUTCOMES:
        raise _invalid(
            "outcome", f"Choose what the bank confirmed: {', '.join(RECONCILIATION_OUTCOMES)}."
        )
    if not (note or "").strip():
        raise _invalid("note", "A note is required: say what the bank confirmed and how.")
    if len(note.strip()) > NOTE_MAX_LENGTH:
        raise _invalid("note", f"Keep the note under {NOTE_MAX_LENGTH} characters.")
    if len((bank_reference or "").strip()) > BANK_REFERENCE_MAX_LENGTH:
        raise _invalid("bank_reference", f"At most {BANK_REFERENCE_MAX_LENGTH} characters.")


def latest_reconciliation_id(batch_id: str) -> int:
    return (
        Reconciliation.objects.filter(batch__public_id=batch_id)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
        or 0
    )


# How reconciling settles the items the bank had not answered for yet.
_PENDING_ITEMS_BECOME = {
    BatchStatus.SETTLED: (ItemStatus.SETTLED, "", ""),
    BatchStatus.FAILED: (
        ItemStatus.FAILED,
        "bank_confirmed_failed",
        "The bank confirmed the batch failed (reconciliation).",
    ),
}


def _resolve_items_for_outcome(batch, outcome, now) -> None:
    pending = PayoutItem.objects.filter(batch=batch, status=ItemStatus.PENDING)
    if outcome in _PENDING_ITEMS_BECOME:
        status, code, message = _PENDING_ITEMS_BECOME[outcome]
        pending.update(status=status, failure_code=code, failure_message=message, resolved_at=now)
    elif outcome == BatchStatus.RETURNED:
        PayoutItem.objects.filter(
            batch=batch, status__in=[ItemStatus.PENDING, ItemStatus.SETTLED]
        ).update(
            status=ItemStatus.RETURNED,
            failure_code="bank_confirmed_returned",
            failure_message="The bank confirmed the batch was returned (reconciliation).",
            resolved_at=now,
        )


def payout_batch_reconcile(
    *,
    batch_id: str,
    outcome: str,
    note: str,
    bank_reference: str = "",
    actor,
    source: str,
    seen_reconciliation_id: int | None = None,
) -> Reconciliation:
    """Record what the bank confirmed and move the batch to ``outcome``.

    ``outcome`` must be a legal move from the batch's status; on a terminal batch it may
    equal the current status, which adds a note without a move. ``seen_reconciliation_id``
    is the latest reconciliation the caller saw (the page sends it; otherwise it is read
    before locking): a newer one means someone else reconciled first -> AlreadyReconciled.
    """
    _check_reconciliation_input(outcome=outcome, note=note, bank_reference=bank_reference)
    if seen_reconciliation_id is None:
        seen_reconciliation_id = latest_reconciliation_id(batch_id)
    who = _Actor(actor, source)
    with transaction.atomic():
        batch = _locked_batch(batch_id)
        latest = batch.reconciliations.order_by("-id").first()
        if latest is not None and latest.id > seen_reconciliation_id:
            raise AlreadyReconciled(
                f"This batch was already reconciled by {latest.actor_name} at "
                f"{latest.created_at:%Y-%m-%d %H:%M:%S %Z} (outcome: {latest.outcome}); "
                "reload to see it before adding another.",
                reconciled_by=latest.actor_name,
                reconciled_at=latest.created_at.isoformat(),
                outcome=latest.outcome,
            )
        note_only = batch.status in TERMINAL and outcome == batch.status
        if not note_only and not is_legal(batch.status, outcome):
            reason = blocked_reason(batch.status, outcome)
            raise IllegalTransition(
                reason,
                **{"from": batch.status, "to": outcome, "allowed": list(batch.allowed_targets)},
                reason=reason,
            )
        now = timezone.now()
        reconciliation = Reconciliation.objects.create(
            batch=batch,
            from_status=batch.status,
            outcome=outcome,
            note=note.strip(),
            bank_reference=(bank_reference or "").strip(),
            actor=actor,
            actor_name=who.name,
            source=source,
            request_id=current_request_id(),
            created_at=now,
        )
        batch.reconciled_at = now
        batch.reconciled_by_name = who.name
        if note_only:
            batch.save(update_fields=["reconciled_at", "reconciled_by_name"])
            _event(
                batch,
                PayoutBatchEvent.Kind.RECONCILIATION,
                who,
                now,
                from_status=batch.status,
                to_status=batch.status,
                reason=reconciliation.note,
                reconciliation=reconciliation,
            )
        else:
            _resolve_items_for_outcome(batch, outcome, now)
            _move(
                batch,
                outcome,
                actor=who,
                reason=reconciliation.note,
                now=now,
                kind=PayoutBatchEvent.Kind.RECONCILIATION,
                reconciliation=reconciliation,
                extra_fields=("reconciled_at", "reconciled_by_name"),
            )
    return reconciliation


def retry_refusal(item: PayoutItem, batch: PayoutBatch) -> str:
    """Why ``item`` cannot be paid again, or "" when it can (no automatic retry, ever)."""
    if item.status not in (ItemStatus.FAILED, ItemStatus.RETURNED):
        return f"Only a failed or returned item can be paid again; this one is {item.status}."
    try:
        already = item.retried_as is not None
    except PayoutItem.DoesNotExist:
        already = False
    if already:
        return "This item has already been paid again."
    if batch.reconciled_at is None or item.resolved_at is None:
        return "Record a reconciliation of the batch first: what did the bank confirm?"
    if batch.reconciled_at < item.resolved_at:
        return "The item failed after the last reconciliation; reconcile the batch again first."
    return ""


def payout_item_retry(*, item_id: str, actor, source: str) -> PayoutItem:
    """Pay a failed or returned item again, in a new batch, once its batch is reconciled."""
    with transaction.atomic():
        batch_id = PayoutItem.objects.values_list("batch__public_id", flat=True).get(
            public_id=item_id
        )
        batch = _locked_batch(batch_id)
        item = PayoutItem.objects.select_for_update().get(public_id=item_id)
        refusal = retry_refusal(item, batch)
        if refusal:
            raise RetryRefused(refusal, item=item.public_id, batch=batch.public_id)
        new_batch = payout_batch_create(
            name=f"Retry of {item.public_id} ({batch.name})"[:120],
            currency=batch.currency,
            rail=batch.rail,
            business_days=batch.business_days,
            calendar=batch.calendar,
            items=[NewItem(item.recipient_name, item.account_reference, item.amount)],
            actor=actor,
            source=source,
        )
        new_item = new_batch.items.get()
        new_item.retry_of = item
        new_item.save(update_fields=["retry_of"])
        _event(
            batch,
            PayoutBatchEvent.Kind.RETRY,
            _Actor(actor, source),
            timezone.now(),
            reason=f"Item {item.public_id} paid again as {new_item.public_id} in batch "
            f"{new_batch.public_id}.",
        )
    return new_item


# --- interface stub (statements helper) ---
# Thin temporary versions of the interface in INTERFACE-payouts.md so the reconciliation app's
# tests run before the payouts branch is merged. The lead replaces this block with the payouts
# helper's real functions at merge; nothing else in payouts/ depends on it.
@dataclass(frozen=True)
class ItemResult:
    item_id: str
    outcome: str  # "settled" | "failed" | "returned"
    amount: int | None = None
    bank_reference: str = ""
    reason_code: str = ""
    statement_line_id: str | None = None


def payout_item_results_record(
    *, results: list[ItemResult], actor, source: str, note: str = ""
) -> list[PayoutItem]:
    """Stub: applies each result with ``payout_item_record_result`` (inside the caller's
    transaction), so an illegal move raises and the caller's whole import rolls back."""
    applied = []
    with transaction.atomic():
        for result in results:
            applied.append(
                payout_item_record_result(
                    item_id=result.item_id,
                    to=result.outcome,
                    failure_code=result.reason_code
                    or ("" if result.outcome == "settled" else "RTN"),
                    failure_message=note[:255],
                    bank_reference=result.bank_reference,
                    actor=actor,
                    source=source,
                )
            )
    return applied


# --- end interface stub (statements helper) ---
