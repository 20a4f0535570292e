"""Receiving the processor's webhooks: verify, parse, apply each event id exactly once, log.

Every delivery leaves a ``WebhookDelivery`` row (the webhook log), whatever its fate. An
accepted event is applied in one transaction that also inserts its ``ProcessorEvent`` row;
the unique ``event_id`` makes a concurrent or later redelivery wait for that transaction and
then find the row (a duplicate, answered 200 with no effect). If applying fails, nothing is
recorded, the answer is 5xx and the processor's retry gets a fresh chance.
"""

import json
import logging
import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max

from payflow import metrics
from payflow.exceptions import ServiceUnavailable
from payflow.observability import current_request_id
from payments import signatures
from payments.errors import WebhookEventInvalid, WebhookRejected
from payments.models import (
    DeliveryOutcome,
    EventOutcome,
    Payment,
    ProcessorEvent,
    Refund,
    SignatureVerdict,
    WebhookDelivery,
)
from payments.services import lock_payment, payment_transition, refund_apply
from payments.transitions import FAILURE_CODES
from payments.webhook_rules import (
    EVENT_TYPES,
    PAYMENT_EVENT_TARGETS,
    decide_payment_event,
    decide_refund_event,
)

logger = logging.getLogger(__name__)

ACTOR_NAME = "processor"
MAX_STORED_BODY = 64 * 1024
_ID_PATTERNS = {
    "id": re.compile(r"^evt_[A-Za-z0-9_]{1,60}$"),
    "data.payment_id": re.compile(r"^pay_[A-Za-z0-9_]{1,28}$"),
    "data.refund_id": re.compile(r"^re_[A-Za-z0-9_]{1,29}$"),
}
_FAILURE_CODE = re.compile(r"^[\x20-\x7e]{0,64}$")
_SECRET_KEYS = re.compile(r"secret|token|password|authorization|api_key", re.IGNORECASE)


@dataclass(frozen=True)
class ProcessorEventIn:
    id: str
    type: str
    created: int
    payment_id: str
    refund_id: str
    failure_code: str
    payload: dict


@dataclass(frozen=True)
class DeliveryResult:
    outcome: str
    event_id: str
    reason: str
    payment_id: str

    def as_json(self) -> dict:
        return {
            "received": True,
            "event_id": self.event_id,
            "outcome": self.outcome,
            "reason": self.reason,
        }


# --- parsing ---------------------------------------------------------------------------------


def parse_event(raw_body: bytes) -> ProcessorEventIn:
    """The event in a (verified) body, or WebhookEventInvalid naming the bad field."""
    try:
        payload = json.loads(raw_body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise WebhookEventInvalid(
            "The body is not JSON.", fields={"body": ["Send one JSON object."]}
        ) from None
    if not isinstance(payload, dict):
        raise WebhookEventInvalid("The body is not a JSON object.", fields={"body": ["Send {…}."]})
    if not _storable(payload):
        raise WebhookEventInvalid(
            "The body holds NUL characters or lone surrogates, which cannot be stored.",
            fields={"body": ["Remove NUL characters (\\u0000) and lone surrogates."]},
        )
    errors: dict[str, list[str]] = {}
    data = payload.get("data")
    if not isinstance(data, dict):
        errors["data"] = ["An object with payment_id (and refund_id for refund events)."]
        data = {}
    values = {
        "id": payload.get("id"),
        "data.payment_id": data.get("payment_id"),
        "data.refund_id": data.get("refund_id", ""),
    }
    for name, value in values.items():
        if name == "data.refund_id" and value in ("", None):
            continue
        if not isinstance(value, str) or not _ID_PATTERNS[name].match(value):
            errors[name] = [f"Expected an id like {_ID_PATTERNS[name].pattern[2:6]}…"]
    event_type = payload.get("type")
    if event_type not in EVENT_TYPES:
        errors["type"] = [f"One of: {', '.join(EVENT_TYPES)}."]
    elif event_type.startswith("refund.") and not data.get("refund_id"):
        errors["data.refund_id"] = ["Refund events name their refund."]
    created = payload.get("created")
    if not isinstance(created, int) or isinstance(created, bool) or not 0 < created < 10**11:
        errors["created"] = ["Whole unix seconds."]
    failure_code = data.get("failure_code", "")
    if failure_code is None:
        failure_code = ""
    if not isinstance(failure_code, str) or not _FAILURE_CODE.match(failure_code):
        errors["data.failure_code"] = ["A short text code, such as card_declined."]
    if errors:
        raise WebhookEventInvalid(
            f"The event is not valid: {', '.join(sorted(errors))}.", fields=errors
        )
    return ProcessorEventIn(
        id=payload["id"],
        type=event_type,
        created=created,
        payment_id=data["payment_id"],
        refund_id=data.get("refund_id") or "",
        failure_code=failure_code,
        payload=payload,
    )


def _storable(value) -> bool:
    """No NUL and no lone surrogate anywhere (PostgreSQL text and jsonb refuse both)."""
    if isinstance(value, str):
        return "\x00" not in value and not any(0xD800 <= ord(ch) <= 0xDFFF for ch in value)
    if isinstance(value, dict):
        return all(_storable(key) and _storable(inner) for key, inner in value.items())
    if isinstance(value, list):
        return all(_storable(inner) for inner in value)
    return True


def redact(raw_body: bytes) -> str:
    """The body for the log: configured secrets and secret-looking JSON values replaced."""
    text = raw_body[:MAX_STORED_BODY].decode("utf-8", errors="replace").replace("\x00", "\\u0000")
    for secret in settings.PROCESSOR_WEBHOOK_SECRETS:
        text = text.replace(secret, "[redacted]")
    try:
        payload = json.loads(text)
    except ValueError:
        return text

    def scrub(value):
        if isinstance(value, dict):
            return {
                key: "[redacted]" if _SECRET_KEYS.search(str(key)) else scrub(inner)
                for key, inner in value.items()
            }
        if isinstance(value, list):
            return [scrub(inner) for inner in value]
        return value

    if not _storable(payload):  # NULs or lone surrogates inside JSON strings: keep them escaped
        return json.dumps(scrub(payload), ensure_ascii=True)
    return json.dumps(scrub(payload), ensure_ascii=False)


# --- applying --------------------------------------------------------------------------------


def _last_applied_created(payment_ref: str) -> int | None:
    return (
        ProcessorEvent.objects.filter(
            payment_ref=payment_ref,
            outcome=EventOutcome.APPLIED,
            type__in=list(PAYMENT_EVENT_TARGETS),
        )
        .aggregate(latest=Max("created"))
        .get("latest")
    )


def _failure_code(given: str) -> tuple[str, str]:
    """A code PayFlow knows, and a note when the processor's own code had to be mapped."""
    if not given:
        return "unspecified", ""
    if given in FAILURE_CODES:
        return given, ""
    return "unspecified", f" (processor code {given!r}, not one PayFlow knows)"


def apply_payment_answer(
    *, payment: Payment, event_type: str, created: int, failure_code: str, actor_name: str, note
) -> tuple[bool, str]:
    """Apply a processor answer to a payment the caller has locked; (applied?, reason).

    The webhook service and the janitor both come here, so both follow the same rules.
    """
    decision = decide_payment_event(
        status=payment.status,
        event_type=event_type,
        created=created,
        last_applied_created=_last_applied_created(payment.public_id),
    )
    if not decision.apply:
        return False, decision.reason
    code, code_note = _failure_code(failure_code)
    for step in decision.steps:
        payment = payment_transition(
            public_id=payment.public_id,
            to=step,
            actor=None,
            actor_name=actor_name,
            reason=f"{note}{code_note if step == 'failed' else ''}",
            failure_code=code if step == "failed" else None,
            expected_version=payment.version,
        )
    return True, decision.reason


def _apply(event: ProcessorEventIn) -> tuple[str, str]:
    """(event outcome, reason) for an event being recorded in this transaction."""
    if not Payment.objects.filter(public_id=event.payment_id).exists():
        return EventOutcome.UNKNOWN_PAYMENT, "No payment has this id; kept for inspection."
    payment = lock_payment(event.payment_id)
    note = f"Processor event {event.id} ({event.type})."
    if event.type in PAYMENT_EVENT_TARGETS:
        applied, reason = apply_payment_answer(
            payment=payment,
            event_type=event.type,
            created=event.created,
            failure_code=event.failure_code,
            actor_name=ACTOR_NAME,
            note=note,
        )
        return (EventOutcome.APPLIED if applied else EventOutcome.IGNORED), reason
    refund = Refund.objects.select_for_update(of=["self"]).filter(public_id=event.refund_id).first()
    if refund is None:
        return EventOutcome.UNKNOWN_PAYMENT, "No refund has this id; kept for inspection."
    if refund.payment_id != payment.pk:
        return EventOutcome.IGNORED, "The refund belongs to another payment; nothing changed."
    decision = decide_refund_event(refund_status=refund.status, event_type=event.type)
    if not decision.apply:
        return EventOutcome.IGNORED, decision.reason
    code, code_note = _failure_code(event.failure_code)
    refund_apply(
        refund=refund,
        payment=payment,
        to=decision.steps[0],
        actor_name=ACTOR_NAME,
        reason=note + code_note,
        failure_code=code,
    )
    return EventOutcome.APPLIED, decision.reason


def _record_delivery(
    *, verdict, outcome, reason, status_code, raw_body, event=None, payment_ref=""
):
    WebhookDelivery.objects.create(
        verdict=verdict,
        outcome=outcome,
        reason=reason[:500],
        status_code=status_code,
        event_id=event.id if event else "",
        event_type=event.type if event else "",
        payment_ref=event.payment_id if event else payment_ref,
        raw_body=redact(raw_body),
        request_id=current_request_id(),
    )
    metrics.WEBHOOK_DELIVERIES.labels(verdict, outcome).inc()


def webhook_receive(*, raw_body: bytes, signature_header: str | None, now: float | None = None):
    """Handle one delivery: a DeliveryResult, or a WebhookRejected subclass (nothing applied)."""
    now = time.time() if now is None else now
    if not settings.PROCESSOR_WEBHOOK_SECRETS:
        logger.error("webhook refused: PROCESSOR_WEBHOOK_SECRETS is not set")
        raise ServiceUnavailable(
            "Webhooks are not configured here (PROCESSOR_WEBHOOK_SECRETS is empty); nothing "
            "was processed. Retry once it is set.",
            code="webhooks_not_configured",
            headers={"Retry-After": "60"},
        )
    try:
        signatures.verify(
            header=signature_header,
            body=raw_body,
            secrets=settings.PROCESSOR_WEBHOOK_SECRETS,
            now=now,
        )
        event = parse_event(raw_body)
    except WebhookRejected as exc:
        logger.warning("webhook rejected: %s (%s)", exc.code, exc.message)
        _record_delivery(
            verdict=exc.verdict,
            outcome=DeliveryOutcome.REJECTED,
            reason=exc.message,
            status_code=exc.status,
            raw_body=raw_body,
        )
        raise
    with transaction.atomic():
        try:
            with transaction.atomic():
                stored = ProcessorEvent.objects.create(
                    event_id=event.id,
                    type=event.type,
                    payment_ref=event.payment_id,
                    refund_ref=event.refund_id,
                    failure_code=event.failure_code[:64],
                    created=event.created,
                    outcome=EventOutcome.IGNORED,
                    payload=event.payload,
                )
        except IntegrityError:
            stored = None
        if stored is None:
            outcome, reason = DeliveryOutcome.DUPLICATE, "This event id was processed already."
        else:
            outcome, reason = _apply(event)
            stored.outcome, stored.reason = outcome, reason[:500]
            stored.save(update_fields=["outcome", "reason"])
        _record_delivery(
            verdict=SignatureVerdict.VALID,
            outcome=outcome,
            reason=reason,
            status_code=200,
            raw_body=raw_body,
            event=event,
        )
    logger.info("webhook %s %s: %s", event.id, event.type, outcome)
    return DeliveryResult(outcome, event.id, reason, event.payment_id)
