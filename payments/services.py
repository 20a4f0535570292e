"""Writes for payments: creation (idempotent or not) and transitions.

A transition is one database transaction: lock the row, check the move (table, conditions,
role), apply it, save with ``update_fields``, append the history row and write the stream's
outbox event. They commit together or not at all.
"""

import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from payflow import metrics
from payflow.accounts.roles import Action, can, denial_message
from payflow.currencies import CURRENCIES
from payflow.observability import current_request_id
from payments.errors import (
    IdempotencyKeyInUse,
    IdempotencyKeyInvalid,
    IdempotencyKeyMissing,
    IdempotencyKeyReused,
    IllegalTransition,
    PaymentForbidden,
    PaymentInvalid,
    PaymentNotFound,
    TransitionConflict,
)
from payments.models import (
    TRANSITION_METHODS,
    IdempotencyKey,
    Payment,
    PaymentEvent,
    PaymentMethod,
    action_for_target,
)
from payments.selectors import legal_targets, transition_blocked_reason
from payments.serializers import payment_as_json
from payments.transitions import (
    ALL_STATES,
    DEFAULT_REASONS,
    FAILURE_CODES,
    PaymentStatus,
)
from transactions.events import record_transaction_event

SYSTEM_ACTOR_NAME = "system"
MAX_REASON_LENGTH = 500
# An in-progress claim older than this is taken to be from a crashed worker and may be taken
# over by a retry with the same body (the crashed worker's transaction rolled back).
IDEMPOTENCY_CLAIM_STALE_AFTER = timedelta(seconds=60)
IDEMPOTENCY_RETRY_AFTER_SECONDS = 1
_PRINTABLE_ASCII = re.compile(r"^[\x20-\x7e]{1,255}$")

# What each status change puts on the transactions stream: (kind, stream status).
STREAM_EVENTS: dict[str, tuple[str, str]] = {
    PaymentStatus.SUBMITTED: ("authorization", "pending"),
    PaymentStatus.PROCESSING: ("authorization", "processing"),
    PaymentStatus.REQUIRES_ACTION: ("authorization", "requires_action"),
    PaymentStatus.SUCCEEDED: ("capture", "succeeded"),
    PaymentStatus.FAILED: ("authorization", "failed"),
    PaymentStatus.CANCELED: ("authorization", "canceled"),
}


# --- creation --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentInput:
    amount: int
    currency: str
    beneficiary_name: str
    beneficiary_account: str
    method: str
    description: str = ""
    submit: bool = False


def check_payment_input(
    *,
    amount,
    currency,
    beneficiary_name,
    beneficiary_account,
    method,
    description="",
    submit=False,
) -> PaymentInput:
    """Validate a creation request; PaymentInvalid names every bad field at once."""
    errors: dict[str, list[str]] = {}
    ceiling = settings.PAYMENT_AMOUNT_CEILING_MINOR
    if not isinstance(amount, int) or isinstance(amount, bool):
        errors["amount"] = ["Give the amount as a whole number of minor units (1250 = 12.50)."]
    elif amount <= 0:
        errors["amount"] = ["The amount must be greater than zero."]
    elif amount >= ceiling:
        errors["amount"] = [f"The amount must be below {ceiling} minor units."]
    currency = currency.strip().upper() if isinstance(currency, str) else currency
    if currency not in CURRENCIES:
        errors["currency"] = [
            f"Unknown currency {currency!r}; use an ISO 4217 code such as USD, EUR, JPY or KWD."
        ]
    name = beneficiary_name.strip() if isinstance(beneficiary_name, str) else ""
    if not name:
        errors["beneficiary.name"] = ["The beneficiary's name is required."]
    elif len(name) > 120:
        errors["beneficiary.name"] = ["Use at most 120 characters."]
    account = beneficiary_account.strip() if isinstance(beneficiary_account, str) else ""
    if not account:
        errors["beneficiary.account"] = ["The beneficiary's account reference is required."]
    elif len(account) > 64:
        errors["beneficiary.account"] = ["Use at most 64 characters."]
    if method not in PaymentMethod.values:
        errors["method"] = [f"Choose one of: {', '.join(PaymentMethod.values)}."]
    description = description.strip() if isinstance(description, str) else description
    if not isinstance(description, str) or len(description) > 500:
        errors["description"] = ["Use text of at most 500 characters."]
    if not isinstance(submit, bool):
        errors["submit"] = ["Use true or false."]
    if errors:
        raise PaymentInvalid(f"Invalid value for: {', '.join(sorted(errors))}.", fields=errors)
    return PaymentInput(amount, currency, name, account, method, description, submit)


def _actor_name(actor) -> str:
    return actor.get_username() if actor is not None else SYSTEM_ACTOR_NAME


def payment_create(*, user, data: PaymentInput) -> Payment:
    """Create a draft (and submit it in the same transaction when ``data.submit``)."""
    if user is not None and not can(user, Action.CREATE_PAYMENT):
        raise PaymentForbidden(denial_message(Action.CREATE_PAYMENT))
    with transaction.atomic():
        payment = Payment(
            amount=data.amount,
            currency=data.currency,
            beneficiary_name=data.beneficiary_name,
            beneficiary_account=data.beneficiary_account,
            method=data.method,
            description=data.description,
            created_by=user,
        )
        payment.full_clean(exclude=["status"])  # protected: only transitions set it
        payment.save()
        PaymentEvent.objects.create(
            payment=payment,
            from_status="",
            to_status=PaymentStatus.DRAFT,
            actor=user,
            actor_name=_actor_name(user),
            reason="Created.",
            request_id=current_request_id(),
        )
        if data.submit:
            _apply_transition(payment, target=PaymentStatus.SUBMITTED, actor=user)
    return payment


# --- transitions -----------------------------------------------------------------------------


def check_target(to) -> str:
    if to not in ALL_STATES:
        raise PaymentInvalid(
            f"Unknown state {to!r}.",
            fields={"to": [f"Choose one of: {', '.join(ALL_STATES)}."]},
        )
    return to


def check_failure_code(*, target: str, failure_code) -> str:
    if failure_code in (None, ""):
        return "unspecified" if target == PaymentStatus.FAILED else ""
    if target != PaymentStatus.FAILED:
        raise PaymentInvalid(
            "A failure code only goes with a move to failed.",
            fields={"failure_code": ["Leave it out unless 'to' is 'failed'."]},
        )
    if failure_code not in FAILURE_CODES:
        raise PaymentInvalid(
            f"Unknown failure code {failure_code!r}.",
            fields={"failure_code": [f"Choose one of: {', '.join(FAILURE_CODES)}."]},
        )
    return failure_code


def check_reason(reason) -> str:
    reason = (reason or "").strip() if isinstance(reason, str | None) else reason
    if not isinstance(reason, str) or len(reason) > MAX_REASON_LENGTH:
        raise PaymentInvalid(
            "The reason is too long.",
            fields={"reason": [f"Use at most {MAX_REASON_LENGTH} characters."]},
        )
    return reason


def _apply_transition(
    payment: Payment, *, target: str, actor, reason: str = "", failure_code: str = ""
) -> Payment:
    """Move a payment the caller has locked (SELECT FOR UPDATE) inside its transaction."""
    source = payment.status
    blocked = transition_blocked_reason(payment=payment, target=target)
    if blocked is not None:
        raise IllegalTransition(
            blocked,
            **{"from": source, "to": target, "allowed": legal_targets(payment=payment)},
            reason=blocked,
        )
    if actor is not None and not can(actor, action_for_target(target)):
        raise PaymentForbidden(denial_message(action_for_target(target)))
    reason = reason or DEFAULT_REASONS[target]
    method = getattr(payment, TRANSITION_METHODS[target])
    try:
        if target == PaymentStatus.FAILED:
            method(code=failure_code or "unspecified", message=reason)
        else:
            method()
    except TransitionNotAllowed as exc:  # the table and the model disagree: never expected
        raise IllegalTransition(
            str(exc), **{"from": source, "to": target, "allowed": []}, reason=str(exc)
        ) from exc
    now = timezone.now()
    payment.version += 1
    payment.status_changed_at = now
    try:
        payment.save(
            update_fields=[
                "status",
                "version",
                "status_changed_at",
                "updated_at",
                "failure_code",
                "failure_message",
            ]
        )
    except ConcurrentTransition as exc:
        raise TransitionConflict(
            "The payment changed while this request was handled; reload it and try again.",
            current_status=None,
        ) from exc
    PaymentEvent.objects.create(
        payment=payment,
        from_status=source,
        to_status=target,
        actor=actor,
        actor_name=_actor_name(actor),
        reason=reason,
        failure_code=payment.failure_code if target == PaymentStatus.FAILED else "",
        request_id=current_request_id(),
        created_at=now,
    )
    kind, stream_status = STREAM_EVENTS[target]
    record_transaction_event(
        kind=kind,
        amount=payment.amount,
        currency=payment.currency,
        status=stream_status,
        merchant=payment.beneficiary_name[:120],
        payment_ref=payment.public_id,
        occurred_at=now,
    )
    transaction.on_commit(lambda: metrics.PAYMENT_TRANSITIONS.labels(source, target).inc())
    return payment


def payment_transition(
    *,
    public_id: str,
    to: str,
    actor,
    reason: str = "",
    failure_code: str | None = None,
    expected_version: int | None = None,
) -> Payment:
    """Move a payment to ``to``; exactly one of several simultaneous conflicting moves wins.

    ``expected_version`` is the version the caller last saw (a page's hidden field, an API
    client's copy). Without it, the version read when the request began stands in: a request
    that finds the payment changed once it holds the lock lost a race (transition_conflict).
    """
    target = check_target(to)
    failure_code = check_failure_code(target=target, failure_code=failure_code)
    reason = check_reason(reason)
    if expected_version is None:
        expected_version = (
            Payment.objects.filter(public_id=public_id).values_list("version", flat=True).first()
        )
    with transaction.atomic():
        payment = Payment.objects.select_for_update().filter(public_id=public_id).first()
        if payment is None:
            raise PaymentNotFound(
                f"No payment with id {public_id!r}.",
                fields={"payment_id": ["No payment has this id."]},
            )
        if payment.version != expected_version:
            raise TransitionConflict(
                f"The payment changed while this request was on its way (it is now "
                f"{payment.get_status_display().lower()}); reload it and decide again.",
                current_status=payment.status,
                current_version=payment.version,
            )
        return _apply_transition(
            payment, target=target, actor=actor, reason=reason, failure_code=failure_code
        )


# --- idempotent creation ---------------------------------------------------------------------


@dataclass(frozen=True)
class IdempotentOutcome:
    status: int
    body: dict
    replayed: bool

    @property
    def payment_id(self) -> str:
        return self.body["id"]


def check_idempotency_key(key) -> str:
    if key is None:
        raise IdempotencyKeyMissing(
            "Send an Idempotency-Key header (1-255 printable ASCII characters) to create a "
            "payment, so a retry can never create it twice.",
            fields={"Idempotency-Key": ["This header is required."]},
        )
    if not isinstance(key, str) or not _PRINTABLE_ASCII.match(key):
        raise IdempotencyKeyInvalid(
            "The Idempotency-Key must be 1 to 255 printable ASCII characters.",
            fields={"Idempotency-Key": ["Use 1-255 printable ASCII characters (a UUID is fine)."]},
        )
    return key


def request_fingerprint(data: PaymentInput) -> str:
    """sha256 of the canonical request: same meaning, same fingerprint, whatever the spacing."""
    canonical = json.dumps(data.__dict__, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _claim(*, user, key: str, fingerprint: str, token: str) -> IdempotencyKey | None:
    """Insert-first: None when this request now holds the key, else the existing record.

    The claim commits in its own short transaction so a concurrent request with the same
    key sees it (and answers 409) instead of waiting for, or racing, the work.
    """
    for _ in range(3):
        try:
            with transaction.atomic():
                IdempotencyKey.objects.create(
                    user=user, key=key, fingerprint=fingerprint, claim_token=token
                )
            return None
        except IntegrityError:
            pass
        existing = IdempotencyKey.objects.filter(user=user, key=key).first()
        if existing is None:  # the holder failed and released it just now: try again
            continue
        stale = timezone.now() - IDEMPOTENCY_CLAIM_STALE_AFTER
        if (
            existing.state == IdempotencyKey.State.IN_PROGRESS
            and existing.fingerprint == fingerprint
            and existing.claimed_at < stale
        ):
            taken = IdempotencyKey.objects.filter(
                pk=existing.pk,
                claim_token=existing.claim_token,
                state=IdempotencyKey.State.IN_PROGRESS,
            ).update(claim_token=token, claimed_at=timezone.now())
            if taken:
                return None
            existing.refresh_from_db()
        return existing
    raise IdempotencyKeyInUse(
        "Another request with this Idempotency-Key is being handled; retry shortly.",
        fields={"Idempotency-Key": ["In use by a request still running."]},
        headers={"Retry-After": str(IDEMPOTENCY_RETRY_AFTER_SECONDS)},
    )


def _answer_existing(record: IdempotencyKey, fingerprint: str) -> IdempotentOutcome:
    if record.fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used with a different request body; use a new "
            "key for a new payment.",
            fields={"Idempotency-Key": ["Already used with a different body."]},
        )
    if record.state == IdempotencyKey.State.IN_PROGRESS:
        raise IdempotencyKeyInUse(
            "The first request with this Idempotency-Key is still being handled; retry shortly "
            "to get its answer.",
            fields={"Idempotency-Key": ["In use by a request still running."]},
            headers={"Retry-After": str(IDEMPOTENCY_RETRY_AFTER_SECONDS)},
        )
    return IdempotentOutcome(record.response_status, record.response_body, replayed=True)


def payment_create_idempotent(*, user, idempotency_key, data: PaymentInput) -> IdempotentOutcome:
    """SPEC section 3's table: first use creates; a retry replays; a clash is refused.

    Only a completed creation is remembered. If the work fails (a refused request, a crash,
    a database error) its transaction rolls back and the claim is released, so nothing was
    created and the same key may be used again.
    """
    key = check_idempotency_key(idempotency_key)
    if not can(user, Action.CREATE_PAYMENT):
        raise PaymentForbidden(denial_message(Action.CREATE_PAYMENT))
    fingerprint = request_fingerprint(data)
    token = secrets.token_hex(16)
    existing = _claim(user=user, key=key, fingerprint=fingerprint, token=token)
    if existing is not None:
        return _answer_existing(existing, fingerprint)
    try:
        with transaction.atomic():
            claim = IdempotencyKey.objects.select_for_update().get(user=user, key=key)
            if claim.claim_token != token:  # taken over as stale while this one stalled
                raise IdempotencyKeyInUse(
                    "This request took too long and another took over its Idempotency-Key; "
                    "retry to get that request's answer.",
                    fields={"Idempotency-Key": ["In use by another request."]},
                    headers={"Retry-After": str(IDEMPOTENCY_RETRY_AFTER_SECONDS)},
                )
            payment = payment_create(user=user, data=data)
            body = payment_as_json(payment, user=user)
            claim.state = IdempotencyKey.State.COMPLETED
            claim.response_status = 201
            claim.response_body = body
            claim.payment = payment
            claim.completed_at = timezone.now()
            claim.save()
    except BaseException:
        IdempotencyKey.objects.filter(
            user=user, key=key, claim_token=token, state=IdempotencyKey.State.IN_PROGRESS
        ).delete()
        raise
    return IdempotentOutcome(201, body, replayed=False)


def idempotency_keys_purge(*, older_than: timedelta, dry_run: bool = False) -> int:
    """Delete keys created before ``older_than`` ago; refuses less than the configured TTL."""
    minimum = timedelta(hours=max(24, settings.IDEMPOTENCY_KEY_TTL_HOURS))
    if older_than < minimum:
        raise ValueError(
            f"--older-than must be at least {int(minimum.total_seconds() // 3600)}h: keys are "
            "kept that long so retries still replay."
        )
    expired = IdempotencyKey.objects.filter(created_at__lt=timezone.now() - older_than)
    if dry_run:
        return expired.count()
    deleted, _ = expired.delete()
    return deleted
