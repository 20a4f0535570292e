"""Request ids, request metrics and log configuration.

Every request gets an id (taken from a well-formed ``X-Request-ID`` or minted here); it is
bound into structlog's context so every log line carries it, echoed in the response, and
available to services through ``current_request_id()`` for the history they write.
"""

import re
import time
import uuid

import structlog
from asgiref.sync import iscoroutinefunction, markcoroutinefunction

from payflow import metrics

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def current_request_id() -> str:
    """The id of the request being handled, or "" outside a request (commands, relay)."""
    return str(structlog.contextvars.get_contextvars().get("request_id", ""))


def _accept_or_mint_request_id(request) -> str:
    offered = request.META.get("HTTP_X_REQUEST_ID", "")
    request_id = offered if _VALID_REQUEST_ID.match(offered) else uuid.uuid4().hex
    # django-structlog reads the header next and binds it to every log line.
    request.META["HTTP_X_REQUEST_ID"] = request_id
    request.__dict__.pop("headers", None)  # drop a cached copy built from the old META
    request.request_id = request_id
    return request_id


class SyncAndAsyncMiddleware:
    """Base for middleware that runs natively on both paths: ``__call__`` for sync requests,
    ``__acall__`` for async ones, so an async view never pays for a thread hop.

    A subclass either overrides both, or only says what it does around the view: ``before``
    (return a response to answer without the view) and ``after`` (return the response).
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def before(self, request):
        return None

    def after(self, request, response):
        return response

    def __call__(self, request):
        if self.is_async:
            return self.__acall__(request)
        early = self.before(request)
        if early is not None:
            return early
        return self.after(request, self.get_response(request))

    async def __acall__(self, request):
        early = self.before(request)
        if early is not None:
            return early
        return self.after(request, await self.get_response(request))


class RequestIdMiddleware(SyncAndAsyncMiddleware):
    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        request_id = _accept_or_mint_request_id(request)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response

    async def __acall__(self, request):
        request_id = _accept_or_mint_request_id(request)
        response = await self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response


def _route_label(request) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return match.route or match.view_name or "unmatched"


class RequestMetricsMiddleware(SyncAndAsyncMiddleware):
    """Counts requests and their latency by route template (bounded label cardinality)."""

    def _observe(self, request, response, started: float) -> None:
        route = _route_label(request)
        metrics.HTTP_REQUESTS.labels(request.method, route, str(response.status_code)).inc()
        metrics.HTTP_REQUEST_SECONDS.labels(request.method, route).observe(
            time.perf_counter() - started
        )

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        started = time.perf_counter()
        response = self.get_response(request)
        self._observe(request, response, started)
        return response

    async def __acall__(self, request):
        started = time.perf_counter()
        response = await self.get_response(request)
        self._observe(request, response, started)
        return response


_QUERY_VALUE = re.compile(r"([?&][^=&\s'\"#]+=)[^&\s'\"#]*")


def redact_query_values(text: str) -> str:
    """'/stream?token=abc&x=1' -> '/stream?token=[redacted]&x=[redacted]': tokens and secrets
    travel in query strings, so no log line keeps any query value."""
    return _QUERY_VALUE.sub(r"\1[redacted]", text) if "?" in text else text


def redact_query_strings(logger, method_name, event_dict):
    """structlog processor: every string value in the line gets its query values redacted."""
    for key, value in event_dict.items():
        if isinstance(value, str) and "=" in value:
            event_dict[key] = redact_query_values(value)
    return event_dict


def configure_logging(*, level: str, json_lines: bool) -> dict:
    """Configure structlog; return Django's LOGGING dict (stdlib lines go through structlog too)."""
    shared_processors = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[
            *shared_processors,
            structlog.stdlib.PositionalArgumentsFormatter(),
            redact_query_strings,
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
    renderer = (
        structlog.processors.JSONRenderer()
        if json_lines
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structured": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    renderer,
                ],
                "foreign_pre_chain": [*shared_processors, redact_query_strings],
            }
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django_structlog": {"level": level},
            "daphne": {"level": "WARNING"},
            "django.channels.server": {"level": "WARNING"},
        },
    }
