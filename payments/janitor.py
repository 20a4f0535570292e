"""The janitor: asks the processor about payments stuck in processing or requires_action.

A webhook can be lost. Past ``PAYMENT_STUCK_AFTER_SECONDS`` in processing or requires_action,
the janitor asks the processor for the payment's status and applies a final answer through
the same rules and transition service as a webhook (actor "janitor", the reason saying what
was asked and answered). What it cannot resolve is listed on the overview. One runner at a
time across processes: a PostgreSQL advisory lock, or a lease row on SQLite.
"""

import logging
import os
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from payflow import metrics
from payments import processor
from payments.models import JanitorLease, JanitorRun, Payment
from payments.services import lock_payment
from payments.transitions import PaymentStatus
from payments.webhooks import apply_payment_answer

logger = logging.getLogger(__name__)

ACTOR_NAME = "janitor"
ADVISORY_LOCK_KEY = 0x5046_4A41_4E49_0001  # "PF JANI": names the lock in pg_locks
LEASE_NAME = "janitor"
LEASE_SECONDS = 300
MAX_PER_RUN = 500
STUCK_STATES = (PaymentStatus.PROCESSING, PaymentStatus.REQUIRES_ACTION)


def runner_label() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


@contextmanager
def single_runner(label: str) -> Iterator[bool]:
    """Yield True while this caller is the only janitor running, False if another is."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_LOCK_KEY])
            held = cursor.fetchone()[0]
        try:
            yield held
        finally:
            if held:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_LOCK_KEY])
        return
    JanitorLease.objects.get_or_create(
        name=LEASE_NAME, defaults={"expires_at": timezone.now() - timedelta(seconds=1)}
    )
    now = timezone.now()
    held = bool(
        JanitorLease.objects.filter(name=LEASE_NAME, expires_at__lt=now).update(
            holder=label, expires_at=now + timedelta(seconds=LEASE_SECONDS)
        )
    )
    try:
        yield held
    finally:
        if held:
            JanitorLease.objects.filter(name=LEASE_NAME, holder=label).update(
                expires_at=timezone.now()
            )


def stuck_payment_refs(*, stuck_after_seconds: int, limit: int = MAX_PER_RUN) -> list[str]:
    threshold = timezone.now() - timedelta(seconds=stuck_after_seconds)
    return list(
        Payment.objects.filter(status__in=STUCK_STATES, status_changed_at__lt=threshold)
        .order_by("status_changed_at", "id")
        .values_list("public_id", flat=True)[:limit]
    )


def _resolve(ref: str, *, ask, stuck_after_seconds: int) -> dict:
    """Ask about one payment and apply a final answer; a note on what happened."""
    answer = ask(payment_ref=ref)
    note = {"payment_id": ref, "processor_says": answer.status, "result": "unresolved"}
    if answer.status not in processor.FINAL:
        note["reason"] = (
            f"The processor has no final answer ({answer.status}); a person should look."
        )
        return note
    with transaction.atomic():
        payment = lock_payment(ref)
        threshold = timezone.now() - timedelta(seconds=stuck_after_seconds)
        if payment.status not in STUCK_STATES or payment.status_changed_at >= threshold:
            note.update(result="moved", reason=f"It moved meanwhile (now {payment.status}).")
            return note
        minutes = int((timezone.now() - payment.status_changed_at).total_seconds() // 60)
        applied, reason = apply_payment_answer(
            payment=payment,
            event_type=f"payment.{answer.status}",
            created=int(time.time()),
            failure_code=answer.failure_code,
            actor_name=ACTOR_NAME,
            note=(
                f"janitor: {payment.get_status_display().lower()} for {minutes} min with no "
                f"webhook; asked the processor, which reports {answer.status}."
            ),
        )
    note.update(result="resolved" if applied else "unresolved", reason=reason)
    return note


def janitor_run(
    *,
    ask: Callable = processor.payment_status,
    stuck_after_seconds: int | None = None,
    label: str | None = None,
) -> JanitorRun | None:
    """One pass; None when another runner holds the lock. The run row says what happened."""
    stuck_after = (
        settings.PAYMENT_STUCK_AFTER_SECONDS if stuck_after_seconds is None else stuck_after_seconds
    )
    label = label or runner_label()
    with single_runner(label) as held:
        if not held:
            logger.info("janitor: another runner holds the lock; skipped")
            return None
        run = JanitorRun.objects.create(runner=label[:120])
        notes = []
        for ref in stuck_payment_refs(stuck_after_seconds=stuck_after):
            try:
                notes.append(_resolve(ref, ask=ask, stuck_after_seconds=stuck_after))
            except Exception as exc:  # noqa: BLE001 - one bad payment must not stop the pass
                logger.exception("janitor: %s failed", ref)
                notes.append({"payment_id": ref, "result": "error", "reason": str(exc)[:200]})
        run.examined = len(notes)
        run.resolved = sum(note["result"] == "resolved" for note in notes)
        run.unresolved = sum(note["result"] == "unresolved" for note in notes)
        run.errors = sum(note["result"] == "error" for note in notes)
        run.unresolved_refs = [
            n["payment_id"] for n in notes if n["result"] in ("unresolved", "error")
        ]
        run.notes = notes
        run.finished_at = timezone.now()
        run.save()
    for note in notes:
        metrics.JANITOR_PAYMENTS.labels(note["result"]).inc()
    logger.info(
        "janitor run: examined=%s resolved=%s unresolved=%s errors=%s",
        run.examined,
        run.resolved,
        run.unresolved,
        run.errors,
    )
    return run


# --- the periodic task in each server process ------------------------------------------------

_started = False
_start_lock = threading.Lock()


def start_periodic() -> bool:
    """Run the janitor every JANITOR_INTERVAL_SECONDS on a daemon thread (once per process).

    Every server process starts one; the lock lets only one of them work at a time.
    """
    global _started
    interval = settings.JANITOR_INTERVAL_SECONDS
    if interval <= 0:
        return False
    with _start_lock:
        if _started:
            return False
        _started = True

    def loop():
        while True:
            time.sleep(interval * random.uniform(0.8, 1.2))  # spread processes apart
            try:
                janitor_run()
            except Exception:  # noqa: BLE001 - the next tick tries again
                logger.exception("janitor: the periodic run failed")
            finally:
                connection.close()

    threading.Thread(target=loop, name="payflow-janitor", daemon=True).start()
    return True
