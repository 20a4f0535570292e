"""The one idempotency mechanism: claim the key, do the work once, replay the stored answer.

| case | answer |
| key missing or malformed | 400 idempotency_key_missing / idempotency_key_invalid |
| first use | the work's own status and body |
| same key, same body, same user | the stored status and body, ``replayed=True`` |
| same key, different body (or another operation) | 422 idempotency_key_reused |
| same key while the first request still runs | 409 idempotency_key_in_use, Retry-After |

The claim commits first in its own short transaction, so a concurrent request with the same
key sees it instead of racing the work. The work and the stored answer commit together; if
the work fails, the claim is released and nothing is remembered.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from payflow.idempotency.errors import (
    IdempotencyKeyInUse,
    IdempotencyKeyInvalid,
    IdempotencyKeyMissing,
    IdempotencyKeyReused,
)
from payflow.idempotency.models import IdempotencyKey

CLAIM_STALE_AFTER = timedelta(seconds=60)
RETRY_AFTER_SECONDS = 1
_PRINTABLE_ASCII = re.compile(r"^[\x20-\x7e]{1,255}$")


@dataclass(frozen=True)
class IdempotentOutcome:
    status: int
    body: dict
    replayed: bool


@dataclass(frozen=True)
class WorkResult:
    """What the work answered: stored and replayed for every retry with the same key."""

    status: int
    body: dict
    resource_id: str = ""


def _in_use(message: str) -> IdempotencyKeyInUse:
    return IdempotencyKeyInUse(
        message,
        fields={"Idempotency-Key": ["In use by a request still running."]},
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def check_idempotency_key(key) -> str:
    if key is None:
        raise IdempotencyKeyMissing(
            "Send an Idempotency-Key header (1-255 printable ASCII characters), so a retry "
            "can never do this twice.",
            fields={"Idempotency-Key": ["This header is required."]},
        )
    if not isinstance(key, str) or not _PRINTABLE_ASCII.match(key):
        raise IdempotencyKeyInvalid(
            "The Idempotency-Key must be 1 to 255 printable ASCII characters.",
            fields={"Idempotency-Key": ["Use 1-255 printable ASCII characters (a UUID is fine)."]},
        )
    return key


def request_fingerprint(*, scope: str, payload) -> str:
    """sha256 of the operation and its canonical body: same meaning, same fingerprint."""
    canonical = json.dumps(
        {"scope": scope, "payload": payload}, sort_keys=True, separators=(",", ":"), default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _claim(*, user, key: str, scope: str, fingerprint: str, token: str) -> IdempotencyKey | None:
    """Insert-first: None when this request now holds the key, else the existing record."""
    for _ in range(3):
        try:
            with transaction.atomic():
                IdempotencyKey.objects.create(
                    user=user, key=key, scope=scope, fingerprint=fingerprint, claim_token=token
                )
            return None
        except IntegrityError:
            pass
        existing = IdempotencyKey.objects.filter(user=user, key=key).first()
        if existing is None:  # the holder failed and released it just now: try again
            continue
        stale = timezone.now() - CLAIM_STALE_AFTER
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
    raise _in_use("Another request with this Idempotency-Key is being handled; retry shortly.")


def _answer_existing(record: IdempotencyKey, fingerprint: str) -> IdempotentOutcome:
    if record.fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used with a different request; use a new key "
            "for a new request.",
            fields={"Idempotency-Key": ["Already used with a different body."]},
        )
    if record.state == IdempotencyKey.State.IN_PROGRESS:
        raise _in_use(
            "The first request with this Idempotency-Key is still being handled; retry shortly "
            "to get its answer."
        )
    return IdempotentOutcome(record.response_status, record.response_body, replayed=True)


def idempotent_call(
    *, user, idempotency_key, scope: str, payload, work: Callable[[], WorkResult]
) -> IdempotentOutcome:
    """Run ``work`` once per (user, key); a retry with the same payload gets the same answer.

    ``payload`` is the request's meaning (a dict or dataclass ``__dict__``), fingerprinted
    with ``scope``. ``work`` runs inside the transaction that stores its answer.
    """
    key = check_idempotency_key(idempotency_key)
    fingerprint = request_fingerprint(scope=scope, payload=payload)
    token = secrets.token_hex(16)
    existing = _claim(user=user, key=key, scope=scope, fingerprint=fingerprint, token=token)
    if existing is not None:
        return _answer_existing(existing, fingerprint)
    try:
        with transaction.atomic():
            claim = IdempotencyKey.objects.select_for_update().get(user=user, key=key)
            if claim.claim_token != token:  # taken over as stale while this one stalled
                raise _in_use(
                    "This request took too long and another took over its Idempotency-Key; "
                    "retry to get that request's answer."
                )
            result = work()
            claim.state = IdempotencyKey.State.COMPLETED
            claim.response_status = result.status
            claim.response_body = result.body
            claim.resource_id = result.resource_id
            claim.completed_at = timezone.now()
            claim.save()
    except BaseException:
        IdempotencyKey.objects.filter(
            user=user, key=key, claim_token=token, state=IdempotencyKey.State.IN_PROGRESS
        ).delete()
        raise
    return IdempotentOutcome(result.status, result.body, replayed=False)


def idempotency_record(*, user, key: str) -> IdempotencyKey | None:
    return IdempotencyKey.objects.filter(user=user, key=key).first()


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
