"""Prometheus metrics shared by every app; ``/metrics`` exposes the default registry.

Define a metric here once and import it where it is counted, so names and labels stay stable.
"""

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "payflow_http_requests_total", "HTTP requests served", ["method", "route", "status"]
)
HTTP_REQUEST_SECONDS = Histogram(
    "payflow_http_request_duration_seconds", "HTTP request latency", ["method", "route"]
)
STREAM_CONNECTIONS = Gauge(
    "payflow_stream_connections", "Open live-stream connections", ["transport"]
)
STREAM_EVENTS_DELIVERED = Counter(
    "payflow_stream_events_delivered_total", "Stream events sent to clients", ["transport"]
)
STREAM_EVENTS_DROPPED = Counter(
    "payflow_stream_events_dropped_total",
    "Stream events dropped from a slow client's queue",
    ["transport"],
)
STREAM_EVENTS_PUBLISHED = Counter(
    "payflow_stream_events_published_total", "Outbox events published by the relay"
)
PAYMENT_TRANSITIONS = Counter(
    "payflow_payment_transitions_total", "Payment state transitions", ["source", "target"]
)
PAYOUT_TRANSITIONS = Counter(
    "payflow_payout_transitions_total", "Payout batch status changes", ["source", "target"]
)
CHAOS_INJECTIONS = Counter("payflow_chaos_injections_total", "Failures injected by chaos", ["kind"])
LOGIN_ATTEMPTS = Counter(
    "payflow_login_attempts_total",
    "Login attempts by outcome: succeeded, failed (wrong credentials), locked (throttled)",
    ["outcome"],
)
WEBHOOK_DELIVERIES = Counter(
    "payflow_webhook_deliveries_total",
    "Processor webhook deliveries by signature verdict and outcome",
    ["verdict", "outcome"],
)
JANITOR_PAYMENTS = Counter(
    "payflow_janitor_payments_total", "Stuck payments the janitor examined, by result", ["result"]
)
REFUNDS = Counter("payflow_refunds_total", "Refund status changes", ["status"])
