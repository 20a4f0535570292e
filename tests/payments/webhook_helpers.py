"""Signed deliveries for tests, built the way the simulated processor builds them."""

import json
import time

from payments.processor import event_body, signed
from payments.signatures import HEADER, signature_header


def post_event(client, event: dict, *, secret=None, timestamp=None, header=None):
    raw, headers = signed(event, timestamp=timestamp, secret=secret)
    if header is not None:
        headers[HEADER] = header
    return client.post(
        "/webhooks/processor",
        raw,
        content_type="application/json",
        headers={HEADER: headers[HEADER]},
    )


def post_raw(client, raw: bytes, *, secrets=("whsec_payflow_development_only",), timestamp=None):
    header = signature_header(
        secrets=list(secrets), timestamp=int(timestamp or time.time()), body=raw
    )
    return client.post(
        "/webhooks/processor", raw, content_type="application/json", headers={HEADER: header}
    )


def payment_event(payment, kind: str, **kwargs) -> dict:
    return event_body(type=f"payment.{kind}", payment_ref=payment.public_id, **kwargs)


__all__ = ["json", "post_event", "post_raw", "payment_event"]
