"""Writes for payments: creation (idempotent or not) and transitions.

A transition is one database transaction: lock the row, check the move (table, conditions,
role), apply it, save with ``update_fields``, append the history row and write the stream's
outbox event. They commit together or not at all.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from payflow import metrics
from payflow.accounts.roles import can, denial_message
from payflow.currencies import CURRENCIES, format_money
from payflow.idempotency.services import (
    IdempotentOutcome,
    WorkResult,
    check_idempotency_key,
    idempotent_call,
)
from payflow.observability import current_request_id
from payflow.preconditions import IfMatch
from payments.errors import (
    IllegalTransition,
    PaymentForbidden,
    PaymentInvalid,
    PaymentNotFound,
    RefundExceedsRefundable,
    RefundNotAllowed,
    TransitionConflict,
)
from payments.models import (
    TRANSITION_METHODS,
    Payment,
    PaymentEvent,
    PaymentMethod,
    Refund,
    RefundEvent,
    RefundStatus,
    action_for_target,
)
from payments.refund_rules import RESERVING_STATES, refund_refusal
from payments.selectors import legal_targets, payment_etag, transition_blocked_reason
from payments.serializers import payment_as_json, refund_as_json
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
    payment: Payment,
    *,
    target: str,
    actor,
    reason: str = "",
    failure_code: str = "",
    actor_name: str | None = None,
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
    # The edge admits anyone who may change a payment's status; which move is allowed can
    # depend on the target (processor answers are simulations), and only here is it known.
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
        actor_name=actor_name or _actor_name(actor),
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
    actor_name: str | None = None,
    if_match: IfMatch | None = None,
) -> Payment:
    """Move a payment to ``to``; exactly one of several simultaneous conflicting moves wins.

    ``expected_version`` is the version the caller last saw (a page's hidden field, an API
    client's copy). Without it, the version read when the request began stands in: a request
    that finds the payment changed once it holds the lock lost a race (transition_conflict).
    ``actor_name`` names a system actor in the history ("processor", "janitor") when
    ``actor`` is None. ``if_match`` (an API client's If-Match) is compared under the lock.
    """
    target = check_target(to)
    failure_code = check_failure_code(target=target, failure_code=failure_code)
    reason = check_reason(reason)
    if expected_version is None:
        expected_version = (
            Payment.objects.filter(public_id=public_id).values_list("version", flat=True).first()
        )
    with transaction.atomic():
        payment = Payment.objects.select_for_update(of=["self"]).filter(public_id=public_id).first()
        if payment is None:
            raise PaymentNotFound(
                f"No payment with id {public_id!r}.",
                fields={"payment_id": ["No payment has this id."]},
            )
        if if_match is not None:
            if_match.require(payment_etag(payment=payment), what="payment")
        if payment.version != expected_version:
            raise TransitionConflict(
                f"The payment changed while this request was on its way (it is now "
                f"{payment.get_status_display().lower()}); reload it and decide again.",
                current_status=payment.status,
                current_version=payment.version,
            )
        return _apply_transition(
            payment,
            target=target,
            actor=actor,
            reason=reason,
            failure_code=failure_code,
            actor_name=actor_name,
        )


# --- idempotent creation ---------------------------------------------------------------------


def payment_create_idempotent(*, user, idempotency_key, data: PaymentInput) -> IdempotentOutcome:
    """Create once per Idempotency-Key: a retry replays the first answer; a clash is refused.

    Only a completed creation is remembered. If the work fails (a refused request, a crash,
    a database error) its transaction rolls back and the claim is released, so nothing was
    created and the same key may be used again.
    """
    check_idempotency_key(idempotency_key)

    def create() -> WorkResult:
        payment = payment_create(user=user, data=data)
        return WorkResult(201, payment_as_json(payment, user=user), payment.public_id)

    return idempotent_call(
        user=user,
        idempotency_key=idempotency_key,
        scope="payments.create",
        payload=data.__dict__,
        work=create,
    )


# --- refunds ---------------------------------------------------------------------------------

# What each refund status puts on the transactions stream (kind ``refund``).
REFUND_STREAM_STATUS = {
    RefundStatus.PENDING: "pending",
    RefundStatus.SUCCEEDED: "refunded",
    RefundStatus.FAILED: "failed",
}


@dataclass(frozen=True)
class RefundInput:
    amount: int
    reason: str


def check_refund_input(*, amount, reason) -> RefundInput:
    errors: dict[str, list[str]] = {}
    if not isinstance(amount, int) or isinstance(amount, bool):
        errors["amount"] = ["Give the amount as a whole number of minor units (1250 = 12.50)."]
    elif amount <= 0:
        errors["amount"] = ["The amount must be greater than zero."]
    elif amount >= settings.PAYMENT_AMOUNT_CEILING_MINOR:
        errors["amount"] = ["The amount is larger than any payment can be."]
    text = reason.strip() if isinstance(reason, str) else None
    if not text:
        errors["reason"] = ["Say why the money goes back (recorded in the history)."]
    elif len(text) > MAX_REASON_LENGTH:
        errors["reason"] = [f"Use at most {MAX_REASON_LENGTH} characters."]
    elif "\x00" in text or any(0xD800 <= ord(ch) <= 0xDFFF for ch in text):
        errors["reason"] = ["Remove NUL characters and lone surrogates."]
    if errors:
        raise PaymentInvalid(f"Invalid value for: {', '.join(sorted(errors))}.", fields=errors)
    return RefundInput(amount=amount, reason=text)


def lock_payment(public_id: str) -> Payment:
    """SELECT ... FOR UPDATE the payment; call inside the caller's transaction."""
    payment = Payment.objects.select_for_update(of=["self"]).filter(public_id=public_id).first()
    if payment is None:
        raise PaymentNotFound(
            f"No payment with id {public_id!r}.",
            fields={"payment_id": ["No payment has this id."]},
        )
    return payment


def _refund_stream_event(refund: Refund, payment: Payment, *, when) -> None:
    record_transaction_event(
        kind="refund",
        amount=refund.amount,
        currency=refund.currency,
        status=REFUND_STREAM_STATUS[refund.status],
        merchant=payment.beneficiary_name[:120],
        payment_ref=payment.public_id,
        occurred_at=when,
    )


def refund_create(
    *, user, payment_id: str, data: RefundInput, if_match: IfMatch | None = None
) -> Refund:
    """Refund part or all of a succeeded payment; the processor confirms it by webhook.

    The payment's row lock serializes refunds of one payment, so the sum of pending and
    succeeded refunds read here cannot change before this one is inserted: however many
    requests run at once, they never exceed the payment's amount.
    """
    with transaction.atomic():
        payment = lock_payment(payment_id)
        if if_match is not None:
            if_match.require(payment_etag(payment=payment), what="payment")
        reserved = sum(
            payment.refunds.filter(status__in=RESERVING_STATES).values_list("amount", flat=True)
        )
        refusal = refund_refusal(
            payment_status=payment.status,
            payment_amount=payment.amount,
            reserved=reserved,
            amount=data.amount,
            money=lambda minor: format_money(minor, payment.currency),
        )
        if refusal is not None:
            error = (
                RefundNotAllowed
                if refusal.code == "refund_not_allowed"
                else RefundExceedsRefundable
            )
            raise error(
                refusal.message,
                fields={
                    "amount" if error is RefundExceedsRefundable else "payment_id": [
                        refusal.message
                    ]
                },
                payment_status=payment.status,
                refundable_amount=max(0, payment.amount - reserved)
                if payment.status == PaymentStatus.SUCCEEDED
                else 0,
            )
        now = timezone.now()
        refund = Refund(
            payment=payment,
            amount=data.amount,
            currency=payment.currency,
            reason=data.reason,
            created_by=user,
            created_at=now,
            status_changed_at=now,
        )
        refund.full_clean(exclude=["status", "payment"])
        refund.save()
        RefundEvent.objects.create(
            refund=refund,
            from_status="",
            to_status=RefundStatus.PENDING,
            actor=user,
            actor_name=_actor_name(user),
            reason=data.reason,
            request_id=current_request_id(),
            created_at=now,
        )
        _refund_stream_event(refund, payment, when=now)
        refund_ref, payment_ref = refund.public_id, payment.public_id
        transaction.on_commit(lambda: metrics.REFUNDS.labels("pending").inc())
        transaction.on_commit(lambda: _tell_processor(payment_ref, refund_ref))
    return refund


def _tell_processor(payment_ref: str, refund_ref: str) -> None:
    # The processor learns of the refund after it is committed; its answer comes by webhook.
    from payments import processor

    processor.request_refund(payment_ref=payment_ref, refund_ref=refund_ref)


def refund_apply(
    *, refund: Refund, payment: Payment, to: str, actor_name: str, reason: str, failure_code=""
) -> Refund:
    """Move a pending refund to succeeded or failed. Call holding the payment's lock."""
    source = refund.status
    if to == RefundStatus.SUCCEEDED:
        refund.succeed()
    else:
        refund.fail(code=failure_code or "unspecified")
    now = timezone.now()
    refund.status_changed_at = now
    refund.save(update_fields=["status", "status_changed_at", "failure_code"])
    RefundEvent.objects.create(
        refund=refund,
        from_status=source,
        to_status=to,
        actor_name=actor_name,
        reason=reason,
        failure_code=refund.failure_code if to == RefundStatus.FAILED else "",
        request_id=current_request_id(),
        created_at=now,
    )
    _refund_stream_event(refund, payment, when=now)
    transaction.on_commit(lambda: metrics.REFUNDS.labels(to).inc())
    return refund


def refund_create_idempotent(
    *, user, idempotency_key, payment_id: str, data: RefundInput, if_match: IfMatch | None = None
) -> IdempotentOutcome:
    """Create a refund once per Idempotency-Key (scope ``payments.refund``)."""
    check_idempotency_key(idempotency_key)

    def create() -> WorkResult:
        refund = refund_create(user=user, payment_id=payment_id, data=data, if_match=if_match)
        return WorkResult(201, refund_as_json(refund), refund.public_id)

    return idempotent_call(
        user=user,
        idempotency_key=idempotency_key,
        scope="payments.refund",
        payload={"payment_id": payment_id, **data.__dict__},
        work=create,
    )
