"""The simulated processor: the other side of the webhook, played honestly.

It decides answers, remembers them (``SimulatedProcessorRecord``, standing in for the
processor's own database), and tells PayFlow the way a real processor does: signed JSON
events POSTed to ``/webhooks/processor``, possibly late, twice, or out of order. It also
answers "what happened to this payment?" for the janitor (``payment_status``).
PayFlow's own code never reads the processor's record directly.
"""

import json
import logging
import random
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from django.conf import settings
from django.db import connection
from django.utils import timezone

from payments.signatures import HEADER, signature_header

logger = logging.getLogger(__name__)

FINAL = ("succeeded", "failed")
_server_url: str | None = None


# --- events and their signatures -------------------------------------------------------------


def new_event_id() -> str:
    return "evt_" + secrets.token_hex(12)


def event_body(
    *, type: str, payment_ref: str, refund_ref: str = "", failure_code: str = "", created=None
) -> dict:
    data = {"payment_id": payment_ref}
    if refund_ref:
        data["refund_id"] = refund_ref
    if failure_code:
        data["failure_code"] = failure_code
    return {
        "id": new_event_id(),
        "type": type,
        "created": int(created if created is not None else time.time()),
        "data": data,
    }


def signed(event: dict, *, timestamp: int | None = None, secret: str | None = None):
    """The raw body and headers the processor sends for ``event`` (signed with the first
    configured secret, as a processor does between rotations)."""
    raw = json.dumps(event, separators=(",", ":")).encode()
    header = signature_header(
        secrets=[secret or settings.PROCESSOR_WEBHOOK_SECRETS[0]],
        timestamp=int(time.time()) if timestamp is None else timestamp,
        body=raw,
    )
    return raw, {HEADER: header, "Content-Type": "application/json"}


# --- how deliveries travel -------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryPlan:
    """Delay before each delivery, share delivered twice, whether a payment's events shuffle."""

    delay: float = 0.0
    duplicate_rate: float = 0.0
    reorder: bool = False
    seed: int | None = None

    def check(self) -> None:
        if not 0 <= self.delay <= 60:
            raise ValueError("--webhook-delay must be between 0 and 60 seconds.")
        if not 0 <= self.duplicate_rate <= 1:
            raise ValueError("--duplicate-rate must be between 0 and 1.")


@dataclass
class HttpTransport:
    """POST each signed event to PayFlow's webhook URL (the real path: server, signature, rules)."""

    url: str
    timeout: float = 10.0
    retries: int = 4  # as processors do: retry when there is no answer or a 5xx, backing off
    statuses: list[int] = field(default_factory=list)

    def __call__(self, raw: bytes, headers: dict) -> int:
        status = 0
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(0.5 * 2 ** (attempt - 1))
            try:
                response = httpx.post(self.url, content=raw, headers=headers, timeout=self.timeout)
            except httpx.HTTPError as exc:
                logger.warning("simulated processor could not deliver to %s: %s", self.url, exc)
                continue
            status = response.status_code
            if status < 500:
                break
        self.statuses.append(status)
        return status


Transport = Callable[[bytes, dict], int]


def deliver(events: list[dict], *, transport: Transport, plan: DeliveryPlan, rng=None) -> list:
    """Send events in order (or shuffled), some twice, waiting ``plan.delay`` before each."""
    rng = rng or random.Random(plan.seed)
    queue = list(events)
    if plan.reorder:
        rng.shuffle(queue)
    sends = []
    for event in queue:
        sends.append(event)
        if plan.duplicate_rate and rng.random() < plan.duplicate_rate:
            sends.append(event)
    statuses = []
    for event in sends:
        if plan.delay:
            time.sleep(plan.delay)
        raw, headers = signed(event)
        statuses.append(transport(raw, headers))
    return statuses


def deliver_later(events: list[dict], *, transport: Transport, plan: DeliveryPlan) -> None:
    """Deliver on a background thread: the caller (a page request) does not wait for it."""

    def run():
        try:
            deliver(events, transport=transport, plan=plan)
        finally:
            connection.close()

    threading.Thread(target=run, name="simulated-processor", daemon=True).start()


def note_server(server) -> None:
    """Remember this process's own address (ASGI ``scope["server"]``) for webhooks to itself."""
    global _server_url
    if _server_url is None and server and server[1]:
        host = server[0] if server[0] not in ("0.0.0.0", "::", "") else "127.0.0.1"
        _server_url = f"http://{host}:{server[1]}/webhooks/processor"


def webhook_url() -> str | None:
    return settings.PROCESSOR_WEBHOOK_URL or _server_url


# --- the processor's decisions ---------------------------------------------------------------


def remember(*, payment_ref: str, status: str, failure_code: str = "") -> None:
    from payments.models import SimulatedProcessorRecord

    SimulatedProcessorRecord.objects.update_or_create(
        payment_ref=payment_ref,
        defaults={"status": status, "failure_code": failure_code, "updated_at": timezone.now()},
    )


def answer_payment(
    *,
    payment_ref: str,
    target: str,
    failure_code: str = "",
    transport: Transport | None = None,
    plan: DeliveryPlan | None = None,
    background: bool = False,
) -> dict:
    """The processor decides ``target`` for a payment, remembers it and sends the webhook."""
    plan = plan or DeliveryPlan()
    remember(payment_ref=payment_ref, status=target, failure_code=failure_code)
    event = event_body(
        type=f"payment.{target}",
        payment_ref=payment_ref,
        failure_code=failure_code if target == "failed" else "",
    )
    transport = transport or _default_transport()
    if transport is None:
        logger.warning("simulated processor: no webhook URL known; %s not sent", event["id"])
    elif background:
        deliver_later([event], transport=transport, plan=plan)
    else:
        deliver([event], transport=transport, plan=plan)
    return event


def _default_transport() -> HttpTransport | None:
    url = webhook_url()
    return HttpTransport(url) if url else None


REFUND_ANSWER_DELAY_SECONDS = 1.0


def request_refund(*, payment_ref: str, refund_ref: str) -> None:
    """PayFlow asked for a refund; the processor confirms it by webhook a moment later."""
    transport = _default_transport()
    if transport is None:
        logger.info("simulated processor: no webhook URL known; refund %s not answered", refund_ref)
        return
    event = event_body(type="refund.succeeded", payment_ref=payment_ref, refund_ref=refund_ref)
    deliver_later(
        [event], transport=transport, plan=DeliveryPlan(delay=REFUND_ANSWER_DELAY_SECONDS)
    )


@dataclass(frozen=True)
class ProcessorStatus:
    status: str  # processing | requires_action | succeeded | failed | unknown
    failure_code: str = ""


def payment_status(*, payment_ref: str) -> ProcessorStatus:
    """What the processor says about a payment when asked (the janitor's status query).

    A final answer it gave is repeated. Otherwise it decides now, the same way every time for
    the same payment: most succeed, some fail, and some it still cannot answer.
    """
    from payments.models import SimulatedProcessorRecord

    record = SimulatedProcessorRecord.objects.filter(payment_ref=payment_ref).first()
    if record is not None and record.status in FINAL:
        return ProcessorStatus(record.status, record.failure_code)
    roll = random.Random(payment_ref).random()
    if roll < 0.7:
        answer = ProcessorStatus("succeeded")
    elif roll < 0.85:
        answer = ProcessorStatus("failed", "processor_error")
    else:
        return ProcessorStatus(record.status if record is not None else "unknown")
    remember(payment_ref=payment_ref, status=answer.status, failure_code=answer.failure_code)
    return answer
