"""Writes for payouts: create a batch, move its status, record item results, reconcile, retry.

Item outcomes have one writer, ``payout_item_results_record`` (statement matching, manual
reconciliation, the demo and the simulation all call it). It locks in one fixed order, the
batches by pk and then their items by pk, so that it and "Pay again" serialise on the same
rows. After applying results it derives each batch's outcome status from its items
(``transitions.derived_status``): a batch never claims more than its items.

Every status move goes through ``_move`` while the batch row is locked: the model's transition
guard, the append-only history row and the stream event (outbox) commit together or not at
all; metrics are counted after the commit.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import batched

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from payflow import metrics
from payflow.bulk import insert_rows, update_rows
from payflow.currencies import UnknownCurrency, format_money, get_currency
from payflow.exceptions import DomainError, NotFound
from payflow.formatting import plural
from payflow.idempotency.services import (
    IdempotentOutcome,
    WorkResult,
    check_idempotency_key,
    idempotent_call,
)
from payflow.observability import current_request_id
from payflow.preconditions import IfMatch
from payouts.models import (
    RAIL_CALENDARS,
    PayoutBatch,
    PayoutBatchEvent,
    PayoutItem,
    PayoutItemResult,
    Rail,
)
from payouts.models import PayoutReconciliation as Reconciliation
from payouts.settlement import (
    CALENDARS,
    MAX_BUSINESS_DAYS,
    calendar_rules,
    expected_settlement_date,
    settlement_deadline,
)
from payouts.transitions import (
    ITEM_DERIVED,
    ITEM_TRANSITIONS,
    RECONCILIATION_OUTCOMES,
    TERMINAL,
    UNSUCCESSFUL,
    BatchStatus,
    ItemStatus,
    blocked_reason,
    derived_status,
    is_legal,
    reason_text,
)
from transactions.events import record_transaction_event

NOTE_MAX_LENGTH = 2000
BANK_REFERENCE_MAX_LENGTH = 64
REASON_CODE_MAX_LENGTH = 40
MAX_ITEMS = 10_000
MAX_ITEM_AMOUNT = 10**15
# The bank's code for items of a batch the bank rejected or returned as a whole.
BATCH_FAILED_CODE = "BATCH_REJECTED"
BATCH_RETURNED_CODE = "BATCH_RETURNED"


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


class ItemResultRefused(PayoutError):
    """An item outcome that its current state does not allow (e.g. settled again)."""

    status = 409
    code = "item_result_refused"


class OutcomeContradictsItems(PayoutError):
    """A batch-level outcome its items do not support (e.g. settled with failed items)."""

    status = 409
    code = "outcome_contradicts_items"


class PayoutNotFound(NotFound):
    code = "not_found"


@dataclass
class NewItem:
    recipient_name: str
    account_reference: str
    amount: int
    reference: str = ""


@dataclass(frozen=True)
class ItemResult:
    item_id: str  # "poi_..." public id
    outcome: str  # "settled" | "failed" | "returned"
    amount: int | None = None  # confirmed minor units; None means the item's amount
    bank_reference: str = ""
    reason_code: str = ""  # return/failure reason: R03, AC04, ...
    statement_line_id: str | None = None  # "bsl_..." when a statement line justified it


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


def _event(batch, kind, actor: _Actor, now, **fields):
    event = _event_row(batch, kind, actor, now, **fields)
    event.save()
    return event


def _event_values(batch, kind, actor: _Actor, now, *, from_status="", to_status="", reason=""):
    """A history entry's columns, for one save or for ``payflow.bulk.insert_rows``."""
    return {
        "batch_id": batch.pk,
        "kind": kind,
        "from_status": from_status,
        "to_status": to_status,
        "reason": reason,
        "actor_id": actor.user.pk if actor.user is not None else None,
        "actor_name": actor.name,
        "source": actor.source,
        "request_id": current_request_id(),
        "created_at": now,
    }


def _event_row(batch, kind, actor: _Actor, now, *, from_status="", to_status="", reason="", **kw):
    values = _event_values(
        batch, kind, actor, now, from_status=from_status, to_status=to_status, reason=reason
    )
    return PayoutBatchEvent(**values, **kw)


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
    for number, item in enumerate(items):
        if isinstance(item.amount, bool) or not isinstance(item.amount, int) or item.amount <= 0:
            raise _invalid(
                f"items[{number}].amount", "Each amount is a positive whole number of minor units."
            )
        if item.amount > MAX_ITEM_AMOUNT:
            raise _invalid(f"items[{number}].amount", f"At most {MAX_ITEM_AMOUNT} minor units.")
        if not (item.recipient_name or "").strip():
            raise _invalid(f"items[{number}].recipient.name", "Name the recipient.")
        if len(item.recipient_name.strip()) > 120:
            raise _invalid(f"items[{number}].recipient.name", "At most 120 characters.")
        if not (item.account_reference or "").strip():
            raise _invalid(f"items[{number}].recipient.account", "Give the recipient's account.")
        if len(item.account_reference.strip()) > 64:
            raise _invalid(f"items[{number}].recipient.account", "At most 64 characters.")
        if len(item.reference or "") > 140:
            raise _invalid(f"items[{number}].reference", "At most 140 characters.")
    if len(items) > MAX_ITEMS:
        raise _invalid("items", f"At most {MAX_ITEMS} items in one batch.")


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
                    recipient_name=item.recipient_name.strip(),
                    account_reference=item.account_reference.strip(),
                    amount=item.amount,
                    reference=(item.reference or "").strip()[:140],
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
            reason=f"Submitted {plural(len(items), 'item')}, T+{business_days} on {rules.label}.",
        )
    return batch


def _not_found(kind: str, public_id: str, field_name: str) -> PayoutNotFound:
    return PayoutNotFound(
        f"No payout {kind} {public_id!r}.", fields={field_name: [f"No payout {kind} has this id."]}
    )


def lock_batch_and_items(
    batch_id: str, *, if_match: IfMatch | None = None
) -> tuple[PayoutBatch, list[PayoutItem]]:
    """Call inside ``transaction.atomic()``: the batch row, then its items by pk, locked.

    The one lock order for payouts (batch before items, items by pk): every writer of items
    takes it, so concurrent writers queue instead of deadlocking or both winning. An API
    client's ``if_match`` is compared with the batch's ETag once the lock is held.
    """
    try:
        batch = PayoutBatch.objects.select_for_update(of=("self",)).get(public_id=batch_id)
    except PayoutBatch.DoesNotExist:
        raise _not_found("batch", batch_id, "batch_id") from None
    if if_match is not None:
        if_match.require(batch.etag(), what="payout batch")
    items = list(
        PayoutItem.objects.select_for_update(of=("self",)).filter(batch=batch).order_by("pk")
    )
    return batch, items


# Items per set-based write: bounds the writer's memory whatever the size of the call (a
# statement of 100,000 lines is one call).
WRITE_CHUNK = 5_000
LOOKUP_CHUNK = 5_000


def _batches_of(item_ids: list[str]) -> dict[str, int]:
    """Each known item's batch pk, by item id."""
    found: dict[str, int] = {}
    for chunk in batched(item_ids, LOOKUP_CHUNK):
        found.update(
            PayoutItem.objects.filter(public_id__in=chunk).values_list("public_id", "batch_id")
        )
    return found


def _lock_batches(batch_pks: list[int]) -> dict[int, PayoutBatch]:
    """Lock the batches in pk order, the order every writer takes them in."""
    batches: dict[int, PayoutBatch] = {}
    for chunk in batched(sorted(batch_pks), LOOKUP_CHUNK):
        batches.update(
            (batch.pk, batch)
            for batch in PayoutBatch.objects.select_for_update(of=("self",))
            .filter(pk__in=chunk)
            .order_by("pk")
        )
    return batches


def _lock_items(item_ids: list[str]) -> dict[str, PayoutItem]:
    """Lock these items (by pk); call with their batches locked."""
    return {
        item.public_id: item
        for item in PayoutItem.objects.select_for_update(of=("self",))
        .filter(public_id__in=item_ids)
        .order_by("pk")
    }


def _whole_batch_chunks(numbered, batch_of: dict[str, int], size: int):
    """``(number, result)`` pairs grouped by batch (pk order, each batch's own order kept),
    cut into chunks of about ``size`` that never split a batch."""
    by_batch: dict[int, list] = {}
    for pair in numbered:
        by_batch.setdefault(batch_of[pair[1].item_id], []).append(pair)
    chunk, batch_pks = [], []
    for pk in sorted(by_batch):
        chunk.extend(by_batch[pk])
        batch_pks.append(pk)
        if len(chunk) >= size:
            yield chunk, batch_pks
            chunk, batch_pks = [], []
    if chunk:
        yield chunk, batch_pks


def _check_result(number: int, result: ItemResult, item: PayoutItem | None) -> None:
    prefix = f"items[{number}]"
    if item is None:
        raise _invalid(f"{prefix}.id", f"No payout item {result.item_id!r}.")
    if result.outcome not in (ItemStatus.SETTLED, ItemStatus.FAILED, ItemStatus.RETURNED):
        raise _invalid(f"{prefix}.outcome", "Use settled, failed or returned.")
    if result.amount is not None and (
        isinstance(result.amount, bool)
        or not isinstance(result.amount, int)
        or not 0 < result.amount <= MAX_ITEM_AMOUNT
    ):
        raise _invalid(f"{prefix}.amount", "A positive whole number of minor units.")
    if (
        result.outcome != ItemStatus.SETTLED
        and not (result.reason_code or "").strip()
        and not (item.status == result.outcome and item.reason_code)
    ):
        raise _invalid(
            f"{prefix}.reason_code", "A failed or returned item needs the bank's reason code."
        )
    if len((result.reason_code or "").strip()) > REASON_CODE_MAX_LENGTH:
        raise _invalid(f"{prefix}.reason_code", f"At most {REASON_CODE_MAX_LENGTH} characters.")
    if len((result.bank_reference or "").strip()) > BANK_REFERENCE_MAX_LENGTH:
        raise _invalid(f"{prefix}.bank_reference", f"At most {BANK_REFERENCE_MAX_LENGTH} chars.")
    if len(result.statement_line_id or "") > 32:
        raise _invalid(f"{prefix}.statement_line_id", "At most 32 characters.")


def _paid_again(item: PayoutItem) -> bool:
    return PayoutItem.objects.filter(retry_of=item).exists()


def _item_refusal(item: PayoutItem, outcome: str, *, confirmed: bool) -> str:
    """Why ``item`` cannot take ``outcome`` now, or ""."""
    if item.status == outcome:
        if item.confirmed_at is not None or not confirmed:
            return (
                f"Item {item.public_id} is already {item.status}"
                + (" (confirmed)" if item.confirmed_at else "")
                + "; an outcome is recorded once."
            )
        return ""  # confirming what a rail report said
    if outcome not in ITEM_TRANSITIONS[item.status]:
        return f"Item {item.public_id} is {item.status} and cannot become {outcome}."
    if item.status == ItemStatus.FAILED:
        if not confirmed:
            return f"Item {item.public_id} failed; only the bank's confirmation can correct it."
        if _paid_again(item):
            return f"Item {item.public_id} failed and was paid again; it cannot be settled too."
    return ""


def _apply_result(item, result: ItemResult, *, confirmed: bool, now) -> str:
    """Write one outcome on a locked item; returns the status it had."""
    refusal = _item_refusal(item, result.outcome, confirmed=confirmed)
    if refusal:
        raise ItemResultRefused(
            refusal, item=item.public_id, item_status=item.status, outcome=result.outcome
        )
    source_status = item.status
    item.status = result.outcome
    code = (result.reason_code or "").strip()
    if result.outcome == ItemStatus.SETTLED:
        item.reason_code = ""
        item.failure_message = ""
    elif code and code != item.reason_code:
        item.reason_code = code
        item.failure_message = reason_text(code) or item.failure_message
    if item.reason_code and not item.failure_message:
        item.failure_message = reason_text(item.reason_code)
    item.bank_reference = (result.bank_reference or "").strip() or item.bank_reference
    item.statement_line_id = result.statement_line_id or item.statement_line_id
    if confirmed:
        item.confirmed_at = now
        item.confirmed_amount = result.amount if result.amount is not None else item.amount
    elif source_status != result.outcome:
        # A confirmation was of the previous outcome; this new one is only reported.
        item.confirmed_at = None
        item.confirmed_amount = None
    if source_status != result.outcome or item.resolved_at is None:
        item.resolved_at = now
    item.updated_at = now
    return source_status


# What ``_apply_result`` may change on an item: written for all of a call's items at once.
APPLIED_ITEM_FIELDS = [
    "status",
    "reason_code",
    "failure_message",
    "bank_reference",
    "statement_line_id",
    "confirmed_at",
    "confirmed_amount",
    "resolved_at",
    "updated_at",
]


def _write_all(changed: list[PayoutItem], results: list[dict], events: list[dict]) -> None:
    """Three set-based writes instead of three per item (a statement of 100,000 lines is
    100,000 results); payflow.bulk runs the text backstop for each."""
    update_rows(PayoutItem, changed, APPLIED_ITEM_FIELDS)
    insert_rows(PayoutItemResult, results)
    insert_rows(PayoutBatchEvent, events)


def _settle_batch_status(batch: PayoutBatch, *, who: _Actor, now, reason: str, **move_kw) -> None:
    """Move ``batch`` to the status its items justify (through in transit when needed)."""
    counts = Counter(
        PayoutItem.objects.filter(batch=batch).values_list("status", flat=True).order_by()
    )
    target = derived_status(counts)
    if target is None or target == batch.status:
        return
    if batch.status == BatchStatus.PROCESSING and not is_legal(batch.status, target):
        _move(
            batch,
            BatchStatus.IN_TRANSIT,
            actor=who,
            reason="The bank reported item results.",
            now=now,
        )
    _move(batch, target, actor=who, reason=reason, now=now, **move_kw)


def _record_results(
    *,
    results: list[ItemResult],
    who: _Actor,
    confirmed: bool,
    note: str,
    now,
    batches: dict[int, PayoutBatch],
    items: dict[str, PayoutItem],
    reconciliation: Reconciliation | None = None,
    allow_batch_statuses=frozenset(),
    numbers: list[int] | None = None,
) -> int:
    """Check and write each result on its locked item; ``numbers`` are the results' positions
    in the caller's list (for naming a bad one), in order when not given."""
    seen: set[str] = set()
    written, rows, events = [], [], []
    request_id = current_request_id()
    for number, result in zip(numbers or range(len(results)), results, strict=True):
        item = items.get(result.item_id)
        _check_result(number, result, item)
        if result.item_id in seen:
            raise _invalid(f"items[{number}].id", f"Item {result.item_id} is named twice.")
        seen.add(result.item_id)
        batch = batches[item.batch_id]
        item.batch = batch
        if batch.status == BatchStatus.PENDING and BatchStatus.PENDING not in allow_batch_statuses:
            raise ItemResultRefused(
                f"Items of a {batch.get_status_display().lower()} batch take no bank results; "
                "it has not been sent to the bank.",
                item=item.public_id,
                item_status=item.status,
                outcome=result.outcome,
            )
        source_status = _apply_result(item, result, confirmed=confirmed, now=now)
        rows.append(
            {
                "item_id": item.pk,
                "from_status": source_status,
                "outcome": result.outcome,
                "amount": item.confirmed_amount if confirmed else result.amount,
                "confirmed": confirmed,
                "bank_reference": (result.bank_reference or "").strip(),
                "reason_code": item.reason_code,
                "statement_line_id": result.statement_line_id or "",
                "reconciliation_id": reconciliation.pk if reconciliation is not None else None,
                "note": note,
                "actor_id": who.user.pk if who.user is not None else None,
                "actor_name": who.name,
                "source": who.source,
                "request_id": request_id,
                "created_at": now,
            }
        )
        detail = f" ({item.reason_code}" if item.reason_code else ""
        if detail:
            detail += f": {item.failure_message})" if item.failure_message else ")"
        evidence = f", statement line {item.statement_line_id}" if result.statement_line_id else ""
        events.append(
            _event_values(
                batch,
                PayoutBatchEvent.Kind.ITEM,
                who,
                now,
                from_status=source_status,
                to_status=result.outcome,
                reason=f"Item {item.public_id} to {item.recipient_name}: {result.outcome}"
                f"{detail}{' confirmed' if confirmed else ''}{evidence}.",
            )
        )
        written.append(item)
    _write_all(written, rows, events)
    return len(written)


def payout_item_results_record(
    *,
    results: list[ItemResult],
    actor,
    source: str,
    note: str = "",
    confirmed: bool = True,
) -> int:
    """Apply confirmed item outcomes; returns how many items were written. Locks every batch
    involved in pk order first, then writes whole batches at a time (items locked by pk, about
    ``WRITE_CHUNK`` items per write, so memory stays bounded for a statement of any size); an
    item already settled cannot move again (ItemResultRefused, 409); derives each batch's
    status from its items; writes append-only history and the outbox event. Runs inside the
    caller's transaction when there is one, so a statement import applies all of its lines or
    none.

    ``confirmed=False`` is a rail's own report (the demo and the simulation): a failure it
    reports is not confirmed, so it cannot be paid again until the bank confirms it.
    """
    if not results:
        return 0
    who = _Actor(actor, source)
    now = timezone.now()
    note = (note or "").strip()
    written = 0
    with transaction.atomic():
        batch_of = _batches_of(list({result.item_id for result in results}))
        for number, result in enumerate(results):
            if result.item_id not in batch_of:
                _check_result(number, result, None)
        batches = _lock_batches(list(set(batch_of.values())))
        for chunk, batch_pks in _whole_batch_chunks(enumerate(results), batch_of, WRITE_CHUNK):
            items = _lock_items([result.item_id for _number, result in chunk])
            written += _record_results(
                results=[result for _number, result in chunk],
                numbers=[number for number, _result in chunk],
                who=who,
                confirmed=confirmed,
                note=note,
                now=now,
                batches=batches,
                items=items,
            )
            for pk in batch_pks:
                _settle_batch_status(
                    batches[pk], who=who, now=now, reason=note or "Item results recorded."
                )
    return written


def payout_item_record_result(
    *,
    item_id: str,
    to: str,
    failure_code: str = "",
    failure_message: str = "",
    bank_reference: str = "",
    actor=None,
    source: str = "system",
    confirmed: bool = False,
) -> PayoutItem:
    """One rail report for one item (through the one writer); unconfirmed unless said so."""
    if to not in (ItemStatus.SETTLED, ItemStatus.FAILED, ItemStatus.RETURNED):
        raise _invalid("to", "Use settled, failed or returned.")
    if to != ItemStatus.SETTLED and not failure_code.strip():
        raise _invalid("failure_code", "A failed or returned item needs the bank's code.")
    with transaction.atomic():
        if failure_message:
            PayoutItem.objects.filter(public_id=item_id).update(
                failure_message=failure_message.strip()[:255]
            )
        payout_item_results_record(
            results=[
                ItemResult(
                    item_id=item_id,
                    outcome=to,
                    bank_reference=bank_reference,
                    reason_code=failure_code,
                )
            ],
            actor=actor,
            source=source,
            confirmed=confirmed,
        )
    return PayoutItem.objects.get(public_id=item_id)


def _amounts_text(items, status, currency) -> str:
    chosen = [item for item in items if item.status == status]
    return f"{len(chosen)} {status} ({format_money(sum(i.amount for i in chosen), currency)})"


def _implied_results(batch, items, outcome, *, reason_code="") -> list[ItemResult]:
    """The item results a batch-level outcome stands for, or raise if the items contradict it.

    settled: every pending item settled; refused when any item failed or was returned.
    failed: every pending item failed; refused when any item settled.
    returned: every pending or settled item returned.
    partially_settled: only when no item is pending (otherwise say which items settled).
    """
    statuses = Counter(item.status for item in items)
    pending = [item for item in items if item.status == ItemStatus.PENDING]
    currency = batch.currency
    if outcome == BatchStatus.SETTLED:
        if statuses[ItemStatus.FAILED] or statuses[ItemStatus.RETURNED]:
            parts = [
                _amounts_text(items, status, currency)
                for status in UNSUCCESSFUL
                if statuses[status]
            ]
            raise OutcomeContradictsItems(
                f"The batch cannot be settled: {' and '.join(sorted(parts))} item(s). Record "
                "the outcome as partially settled, or record each item's outcome.",
                fields={"outcome": ["Contradicts the batch's failed or returned items."]},
                outcome=outcome,
                item_counts=dict(statuses),
            )
        return [ItemResult(item.public_id, ItemStatus.SETTLED) for item in pending]
    if outcome == BatchStatus.FAILED:
        if statuses[ItemStatus.SETTLED]:
            raise OutcomeContradictsItems(
                f"The batch cannot be failed: {_amounts_text(items, 'settled', currency)} "
                "item(s). Record it as partially settled, or record each item's outcome.",
                fields={"outcome": ["Contradicts the batch's settled items."]},
                outcome=outcome,
                item_counts=dict(statuses),
            )
        code = reason_code or BATCH_FAILED_CODE
        return [ItemResult(item.public_id, ItemStatus.FAILED, reason_code=code) for item in pending]
    if outcome == BatchStatus.RETURNED:
        code = reason_code or BATCH_RETURNED_CODE
        return [
            ItemResult(item.public_id, ItemStatus.RETURNED, reason_code=code)
            for item in items
            if item.status in (ItemStatus.PENDING, ItemStatus.SETTLED)
        ]
    if outcome == BatchStatus.PARTIALLY_SETTLED:
        if pending or not statuses[ItemStatus.SETTLED] or derived_status(statuses) != outcome:
            raise OutcomeContradictsItems(
                "Partially settled needs each item's outcome: "
                f"{len(pending)} item(s) are still pending. Say which settled and which failed.",
                fields={"items": ["Give each pending item's outcome."]},
                outcome=outcome,
                item_counts=dict(statuses),
            )
        return []
    return []


def payout_batch_transition(
    *,
    batch_id: str,
    to: str,
    actor=None,
    reason: str = "",
    source: str = "system",
    reason_code: str = "",
) -> PayoutBatch:
    """Move a batch to ``to`` (a legal move) or raise IllegalTransition.

    An outcome (settled, partially settled, failed, returned) is the bank's word about the
    items: their pending items take the matching rail results first, and the batch status then
    follows from its items (a failed batch has failed items with a reason code).
    """
    if to not in BatchStatus.values:
        raise _invalid("to", f"Use one of {', '.join(BatchStatus.values)}.")
    who = _Actor(actor, source)
    with transaction.atomic():
        batch, items = lock_batch_and_items(batch_id)
        now = timezone.now()
        if to not in ITEM_DERIVED:
            _move(batch, to, actor=who, reason=reason, now=now)
            return batch
        if not is_legal(batch.status, to):
            reason_text = blocked_reason(batch.status, to) or (
                f"A {batch.get_status_display().lower()} batch is final."
            )
            raise IllegalTransition(
                reason_text,
                **{"from": batch.status, "to": to, "allowed": list(batch.allowed_targets)},
                reason=reason_text,
            )
        implied = _implied_results(batch, items, to, reason_code=reason_code)
        allowed = {BatchStatus.PENDING} if to == BatchStatus.FAILED else frozenset()
        _record_results(
            results=implied,
            who=who,
            confirmed=False,
            note=reason,
            now=now,
            batches={batch.pk: batch},
            items={item.public_id: item for item in items},
            allow_batch_statuses=allowed,
        )
        if batch.status == BatchStatus.PENDING and to == BatchStatus.FAILED:
            _move(batch, to, actor=who, reason=reason, now=now)
        else:
            _settle_batch_status(batch, who=who, now=now, reason=reason)
    return batch


def _check_reconciliation_input(*, outcome, note: str, bank_reference: str, items) -> None:
    if outcome is None and not items:
        raise _invalid("outcome", "Give the batch's outcome, or each item's outcome in items.")
    if outcome is not None and outcome not in RECONCILIATION_OUTCOMES:
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


def payout_batch_reconcile(
    *,
    batch_id: str,
    note: str,
    outcome: str | None = None,
    items: list[ItemResult] | None = None,
    bank_reference: str = "",
    actor,
    source: str,
    seen_reconciliation_id: int | None = None,
    if_match: IfMatch | None = None,
) -> Reconciliation:
    """Record what the bank confirmed, item by item; the batch's status follows its items.

    ``items`` are per-item outcomes. ``outcome`` (optional with items) is the batch-level
    answer: it stands for the remaining pending items (see ``_implied_results``) and must agree
    with the items (a batch with failed items cannot be settled). On a final batch the same
    outcome adds a note and confirms the items' results. Every resolved item's outcome counts
    as confirmed by the bank afterwards, so a confirmed failure can be paid again.
    ``seen_reconciliation_id`` is the latest reconciliation the caller saw (the page sends it;
    otherwise it is read before locking): a newer one means someone else reconciled first.
    """
    items = list(items or [])
    _check_reconciliation_input(
        outcome=outcome, note=note, bank_reference=bank_reference, items=items
    )
    if seen_reconciliation_id is None:
        seen_reconciliation_id = latest_reconciliation_id(batch_id)
    who = _Actor(actor, source)
    with transaction.atomic():
        batch, locked = lock_batch_and_items(batch_id, if_match=if_match)
        by_id = {item.public_id: item for item in locked}
        for number, result in enumerate(items):
            if result.item_id not in by_id:
                raise _invalid(f"items[{number}].id", f"No item {result.item_id!r} in this batch.")
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
        from_status = batch.status
        if batch.status == BatchStatus.PENDING:
            raise IllegalTransition(
                "A pending batch has not been sent to the bank; there is nothing to reconcile.",
                **{"from": batch.status, "to": outcome, "allowed": list(batch.allowed_targets)},
            )
        # The same outcome again confirms the items' results (and adds the note).
        confirming = outcome == batch.status
        if outcome is not None and not confirming and not is_legal(batch.status, outcome):
            reason = blocked_reason(batch.status, outcome)
            if batch.status in TERMINAL:
                reason = (
                    f"A {batch.get_status_display().lower()} batch is final and cannot become "
                    f"{BatchStatus(outcome).label.lower()}; you can still add a reconciliation "
                    f"note with the outcome '{batch.status}'."
                )
            raise IllegalTransition(
                reason,
                **{"from": batch.status, "to": outcome, "allowed": list(batch.allowed_targets)},
                reason=reason,
            )
        now = timezone.now()
        reconciliation = Reconciliation.objects.create(
            batch=batch,
            from_status=from_status,
            outcome=outcome or from_status,
            note=note.strip(),
            bank_reference=(bank_reference or "").strip(),
            actor=actor,
            actor_name=who.name,
            source=source,
            request_id=current_request_id(),
            created_at=now,
        )
        record = lambda results: _record_results(  # noqa: E731
            results=results,
            who=who,
            confirmed=True,
            note=reconciliation.note,
            now=now,
            batches={batch.pk: batch},
            items=by_id,
            reconciliation=reconciliation,
        )
        record(items)
        if outcome is not None:
            record(_implied_results(batch, locked, outcome))
        # The reconciliation confirms every outcome it did not restate.
        resolved = PayoutItem.objects.filter(batch=batch).exclude(status=ItemStatus.PENDING)
        resolved.filter(confirmed_at__isnull=True).update(confirmed_at=now)
        resolved.filter(confirmed_amount__isnull=True).update(confirmed_amount=F("amount"))
        batch.reconciled_at = now
        batch.reconciled_by_name = who.name
        batch.save(update_fields=["reconciled_at", "reconciled_by_name"])
        before = batch.status
        _settle_batch_status(
            batch,
            who=who,
            now=now,
            reason=reconciliation.note,
            kind=PayoutBatchEvent.Kind.RECONCILIATION,
            reconciliation=reconciliation,
        )
        if outcome is not None and batch.status != outcome:
            raise OutcomeContradictsItems(
                f"The items make this batch {batch.get_status_display().lower()}, not "
                f"{BatchStatus(outcome).label.lower()}.",
                fields={"outcome": ["Does not follow from the items' outcomes."]},
                outcome=outcome,
            )
        if batch.status == before:  # no move: the note is its own history entry
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
        # The outcome recorded is where the batch stands now.
        if reconciliation.outcome != batch.status:
            Reconciliation.objects.filter(pk=reconciliation.pk).update(outcome=batch.status)
            reconciliation.refresh_from_db()
    return reconciliation


def retry_refusal(item: PayoutItem, batch: PayoutBatch | None = None) -> str:
    """Why ``item`` cannot be paid again, or "" when it can (no automatic retry, ever)."""
    if item.status not in UNSUCCESSFUL:
        return f"Only a failed or returned item can be paid again; this one is {item.status}."
    try:
        already = item.retried_as is not None
    except PayoutItem.DoesNotExist:
        already = False
    if already:
        return "This item has already been paid again."
    if item.confirmed_at is None:
        return "The bank has not confirmed this failure yet: record a reconciliation first."
    return ""


def payout_item_retry(
    *,
    item_id: str,
    actor,
    source: str,
    account_reference: str | None = None,
    recipient_name: str | None = None,
    if_match: IfMatch | None = None,
) -> PayoutItem:
    """Pay a confirmed failed or returned item again, in a new batch, once.

    The operator may correct the account (the failure was often a wrong account). Locks the
    original's batch and items first (the same order as every item writer), so a concurrent
    reconciliation of the item and this cannot both win; the unique ``retry_of`` makes a second
    retry impossible even so.
    """
    account = (account_reference or "").strip()
    name = (recipient_name or "").strip()
    if account_reference is not None and not account:
        raise _invalid("account", "Give the account to pay, or leave the original.")
    if len(account) > 64:
        raise _invalid("account", "At most 64 characters.")
    if len(name) > 120:
        raise _invalid("recipient_name", "At most 120 characters.")
    with transaction.atomic():
        batch_id = (
            PayoutItem.objects.filter(public_id=item_id)
            .values_list("batch__public_id", flat=True)
            .first()
        )
        if batch_id is None:
            raise _not_found("item", item_id, "item_id")
        batch, items = lock_batch_and_items(batch_id, if_match=if_match)
        item = next(i for i in items if i.public_id == item_id)
        refusal = retry_refusal(item, batch)
        if refusal:
            raise RetryRefused(refusal, item=item.public_id, batch=batch.public_id)
        new_batch = payout_batch_create(
            name=f"Retry of {item.public_id} ({batch.name})"[:120],
            currency=batch.currency,
            rail=batch.rail,
            business_days=batch.business_days,
            calendar=batch.calendar,
            items=[
                NewItem(
                    name or item.recipient_name,
                    account or item.account_reference,
                    item.amount,
                    item.reference,
                )
            ],
            actor=actor,
            source=source,
        )
        new_item = new_batch.items.get()
        new_item.retry_of = item
        new_item.save(update_fields=["retry_of"])
        changed = (
            f" to account {new_item.account_reference} (was {item.account_reference})"
            if new_item.account_reference != item.account_reference
            else ""
        )
        _event(
            batch,
            PayoutBatchEvent.Kind.RETRY,
            _Actor(actor, source),
            timezone.now(),
            reason=f"Item {item.public_id} ({item.reason_code}) paid again as "
            f"{new_item.public_id} in batch {new_batch.public_id}{changed}.",
        )
        _event(
            new_batch,
            PayoutBatchEvent.Kind.RETRY,
            _Actor(actor, source),
            timezone.now(),
            reason=f"Pays again item {item.public_id} of batch {batch.public_id}, which "
            f"{item.status} ({item.reason_code}).",
        )
    return new_item


# --- keyed writes (the one idempotency mechanism) --------------------------------------------


@dataclass
class BatchInput:
    name: str
    currency: str
    rail: str
    business_days: int
    items: list[NewItem]
    calendar: str | None = None
    submit: bool = True


def payout_batch_create_idempotent(
    *,
    user,
    idempotency_key,
    data: BatchInput,
    source: str,
    render: Callable[[PayoutBatch], dict],
) -> IdempotentOutcome:
    """Create once per Idempotency-Key (scope ``payouts.create``); ``submit`` sends the batch
    to the bank (processing) at once, otherwise it waits as pending. A retry replays the
    first answer; nothing is remembered when the creation is refused."""
    check_idempotency_key(idempotency_key)

    def create() -> WorkResult:
        batch = payout_batch_create(
            name=data.name,
            currency=data.currency,
            rail=data.rail,
            business_days=data.business_days,
            calendar=data.calendar,
            items=data.items,
            actor=user,
            source=source,
        )
        if data.submit:
            payout_batch_transition(
                batch_id=batch.public_id,
                to=BatchStatus.PROCESSING,
                actor=user,
                reason="Submitted on creation.",
                source=source,
            )
        return WorkResult(201, render(batch), batch.public_id)

    payload = {**data.__dict__, "items": [item.__dict__ for item in data.items]}
    return idempotent_call(
        user=user,
        idempotency_key=idempotency_key,
        scope="payouts.create",
        payload=payload,
        work=create,
    )


def payout_batch_reconcile_idempotent(
    *,
    user,
    idempotency_key,
    batch_id: str,
    note: str,
    outcome: str | None = None,
    items: list[ItemResult] | None = None,
    bank_reference: str = "",
    source: str,
    render: Callable[[Reconciliation], dict],
    if_match: IfMatch | None = None,
) -> IdempotentOutcome:
    """``payout_batch_reconcile`` once per Idempotency-Key (scope ``payouts.reconcile``): a
    retried reconciliation replays the first answer and records nothing new."""
    check_idempotency_key(idempotency_key)
    items = list(items or [])

    def reconcile() -> WorkResult:
        record = payout_batch_reconcile(
            batch_id=batch_id,
            outcome=outcome,
            items=items,
            note=note,
            bank_reference=bank_reference,
            actor=user,
            source=source,
            if_match=if_match,
        )
        return WorkResult(201, render(record), str(record.pk))

    payload = {
        "batch_id": batch_id,
        "outcome": outcome,
        "note": note,
        "bank_reference": bank_reference,
        "items": [item.__dict__ for item in items],
    }
    return idempotent_call(
        user=user,
        idempotency_key=idempotency_key,
        scope="payouts.reconcile",
        payload=payload,
        work=reconcile,
    )
