"""Processor webhook signatures: ``PayFlow-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...]``.

Each ``v1`` is HMAC-SHA256(secret, ``"<t>.<raw body>"``) in hex. Every configured secret is
accepted (rotation: the processor signs with old and new while both are live), the timestamp
must be within the tolerance of now (either side), and comparisons are constant-time.
"""

import hashlib
import hmac
import re

from payments.errors import SignatureMalformed, SignatureMismatch, SignatureMissing, SignatureStale

HEADER = "PayFlow-Signature"
TOLERANCE_SECONDS = 300
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
MAX_SIGNATURES = 8


def signature(*, secret: str, timestamp: int, body: bytes) -> str:
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(*, secrets: list[str], timestamp: int, body: bytes) -> str:
    parts = [f"t={timestamp}"] + [
        f"v1={signature(secret=s, timestamp=timestamp, body=body)}" for s in secrets
    ]
    return ",".join(parts)


def parse_header(header: str | None) -> tuple[int, list[str]]:
    """The timestamp and the v1 signatures, or SignatureMissing / SignatureMalformed."""
    if header is None or not header.strip():
        raise SignatureMissing(
            f"The {HEADER} header is missing; unsigned deliveries are never processed.",
            fields={HEADER: ["This header is required."]},
        )
    timestamp, signatures = None, []
    for part in header.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep:
            raise _malformed("every part is name=value")
        if name == "t":
            if timestamp is not None or not value.isascii() or not value.isdigit():
                raise _malformed("t must appear once, as whole unix seconds")
            if len(value) > 12:
                raise _malformed("t is not a plausible unix time")
            timestamp = int(value)
        elif name == "v1":
            if not _HEX64.match(value):
                raise _malformed("each v1 is 64 lower-case hex characters")
            signatures.append(value)
        # Other schemes (v0, future versions) are ignored, as processors document.
    if timestamp is None or not signatures:
        raise _malformed("it needs t=<unix seconds> and at least one v1=<hex>")
    if len(signatures) > MAX_SIGNATURES:
        raise _malformed(f"at most {MAX_SIGNATURES} v1 signatures")
    return timestamp, signatures


def _malformed(detail: str) -> SignatureMalformed:
    return SignatureMalformed(
        f"The {HEADER} header is malformed: {detail}.",
        fields={HEADER: [f"Use t=<unix seconds>,v1=<hex>; {detail}."]},
    )


def verify(*, header: str | None, body: bytes, secrets: list[str], now: float) -> int:
    """Check the header against the raw body; return its timestamp, or raise the verdict."""
    timestamp, signatures = parse_header(header)
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        raise SignatureStale(
            f"The signature's timestamp is more than {TOLERANCE_SECONDS // 60} minutes from now; "
            "a delayed or replayed delivery is refused.",
            fields={HEADER: ["The t= value is outside the tolerance."]},
        )
    expected = [signature(secret=s, timestamp=timestamp, body=body) for s in secrets]
    # Compare every pair (no early exit) so timing says nothing about which part matched.
    matched = False
    for candidate in expected:
        for given in signatures:
            matched |= hmac.compare_digest(candidate, given)
    if not matched:
        raise SignatureMismatch(
            "No signature matches the body with a configured secret.",
            fields={HEADER: ["No v1 signature matches."]},
        )
    return timestamp
