"""The transactions page and the Server-Sent Events stream (``/stream/transactions/``).

SSE is an async view returning a StreamingHttpResponse over an async generator (not Channels'
AsyncHttpConsumer: see STACK.md). Django cancels the generator when the client goes away, so
the ``finally`` in ``sse_frames`` always unsubscribes.
"""

import json
import logging

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import Http404, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render

from payflow.accounts.decorators import requires
from payflow.accounts.roles import Action
from payflow.exceptions import DomainError, InvalidInput, NotFound
from transactions import selectors
from transactions.access import stream_access
from transactions.models import TransactionKind
from transactions.session import (
    OUTAGE_ERRORS,
    StreamClosed,
    StreamSession,
    server_error_message,
    slow_client_message,
    stream_unavailable,
)
from transactions.stream import StreamInputError, parse_stream_request
from transactions.transport import transport_watch

logger = logging.getLogger(__name__)

SSE_RETRY_MS = 2000
PAGE_ROWS = 50


@requires(Action.VIEW)
def transactions_page(request):
    if "min" in request.GET:
        # The form's typed amount (major units): into the stream's minor units, then the
        # canonical URL, which the feed, the export link and saved views all share.
        minor, min_error = selectors.typed_min_amount(request.GET)
        if min_error is None:
            query = request.GET.copy()
            query.pop("min")
            query.pop("min_amount", None)
            if minor is not None:
                query["min_amount"] = str(minor)
            return redirect(f"{request.path}?{query.urlencode()}" if query else request.path)
        return _transactions_page(request, extra_errors={"minimum amount": [min_error]})
    return _transactions_page(request)


def _transactions_page(request, *, extra_errors: dict | None = None):
    try:
        stream_request = parse_stream_request(request.GET)
    except StreamInputError as exc:
        stream_request, filter_error = parse_stream_request({}), exc
    else:
        filter_error = None
    # Name every bad field at once (the stream itself stops at the first), and keep the live
    # feed running unfiltered rather than handing it filters it would refuse.
    filter_errors = {}
    if filter_error is not None:
        try:
            selectors.parse_transaction_query(request.GET)
        except InvalidInput as exc:
            filter_errors = exc.fields
        filter_errors = filter_errors or {filter_error.field: [filter_error.message]}
    if extra_errors:
        filter_errors = {**filter_errors, **extra_errors}
    if filter_errors:
        stream_request = parse_stream_request({})
    min_typed, min_unreadable = selectors.min_amount_as_typed(stream_request.filters)
    context = {
        "filter_errors": filter_errors,
        "min_typed": request.GET.get("min", min_typed),
        "min_unreadable": min_unreadable,
        "stream_query": "" if filter_errors else request.GET.urlencode(),
        "events": selectors.recent_events(limit=PAGE_ROWS, filters=stream_request.filters),
        "filters": stream_request.filters,
        "filter_error": filter_error,
        "kinds": TransactionKind.choices,
        "row_cap": 200,
        "pause_buffer_cap": 1000,
        "export_query": request.GET.urlencode(),
    }
    return render(request, "transactions/page.html", context)


@requires(Action.VIEW)
def transaction_detail_page(request, public_id: str):
    try:
        transaction = selectors.transaction_get(public_id=public_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    context = {
        "transaction": transaction,
        "events": selectors.transaction_events(transaction=transaction),
        "siblings": selectors.transaction_siblings(transaction=transaction),
    }
    return render(request, "transactions/detail.html", context)


@requires(Action.VIEW)
def volume_chart(request):
    """The volume and failure-rate chart (a live section body on the overview and this page)."""
    from django.utils import timezone

    from payflow.accounts.selectors import display_prefs
    from payflow.charts import volume_chart as build
    from payflow.formatting import format_time

    zone = display_prefs(request).time_zone
    now = timezone.now()
    chart = build(
        selectors.volume_per_minute(minutes=60, now=now),
        label_of=lambda moment: format_time(moment, zone=zone, style="minutes")[-5:],
    )
    response = render(request, "charts/_volume.html", {"chart": chart})
    response["X-Data-Updated-At"] = now.isoformat()
    return response


@requires(Action.VIEW)
def related_transactions(request):
    """The transactions of one payment or payout batch: a fragment other pages load by URL."""
    try:
        query = selectors.parse_transaction_query(request.GET)
    except InvalidInput as exc:
        return render(request, "transactions/_related.html", {"error": exc}, status=422)
    rows, more = [], False
    if query.payment_ref or query.payout_ref:
        rows, cursor = selectors.transaction_list(query=query, cursor=None, limit=20)
        more = cursor is not None
    context = {"rows": rows, "more": more, "query": query}
    return render(request, "transactions/_related.html", context)


@requires(Action.VIEW)
def transaction_for_event(request, event_id: int):
    """Live rows know a stream event id; this leads to the transaction it reports."""
    try:
        transaction = selectors.transaction_for_event(event_id=event_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    return redirect("transactions:detail", public_id=transaction.public_id)


def encode_sse(message: dict, *, event_id: int | None = None, text: str | None = None) -> bytes:
    lines = [f"event: {message['type']}"]
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.append("data: " + (text or json.dumps(message, separators=(",", ":"))))
    return ("\n".join(lines) + "\n\n").encode()


def _frame_id(message: dict) -> int | None:
    if message["type"] == "events":
        return message["events"][-1]["id"]
    if message["type"] == "heartbeat":
        return message["last_id"]
    return None


def error_response(error: DomainError) -> JsonResponse:
    """A domain error in the one error shape, with its headers (``Retry-After``...)."""
    return JsonResponse(error.body(), status=error.status, headers=error.headers)


async def sse_frames(session: StreamSession, watch):
    """The open session's frames; it ends only with a message saying why, never silently."""
    slow_after = float(settings.STREAM_SLOW_CLIENT_SECONDS)
    try:
        yield f"retry: {SSE_RETRY_MS}\n: stream open\n\n".encode()
        async for message in session.messages():
            if not await watch.wait_writable(slow_after):
                raise StreamClosed(slow_client_message(slow_after, last_id=session.resume_id))
            yield encode_sse(message, event_id=_frame_id(message), text=session.text(message))
    except StreamClosed as closed:
        if closed.message:
            yield encode_sse(closed.message)
    except Exception:
        logger.exception("stream: SSE connection failed")
        yield encode_sse(server_error_message(last_id=session.resume_id))
    finally:
        session.close()


class StreamResponse(StreamingHttpResponse):
    """Unsubscribes the session when the response ends, even if no frame was ever sent."""

    def __init__(self, session: StreamSession, frames, **kwargs):
        super().__init__(frames, **kwargs)
        self.session = session

    def close(self):
        self.session.close()
        super().close()


async def transaction_stream(request):
    try:
        access = await sync_to_async(stream_access)(
            session_user=await request.auser(),
            authorization=request.headers.get("Authorization"),
            token=None,
        )
    except OUTAGE_ERRORS as exc:
        logger.warning("stream: cannot check access (%s: %s)", type(exc).__name__, exc)
        return error_response(stream_unavailable())
    if not access.allowed:
        return JsonResponse(access.as_body(), status=access.status)
    try:
        stream_request = parse_stream_request(
            request.GET, last_event_id=request.headers.get("Last-Event-ID")
        )
    except StreamInputError as exc:
        return JsonResponse(exc.as_body(), status=422)
    session = StreamSession(request=stream_request, transport="sse")
    try:
        # Opened before answering, so an outage gets a 503 the client can act on.
        await session.open()
    except DomainError as exc:
        return error_response(exc)
    response = StreamResponse(
        session,
        sse_frames(session, transport_watch(request.scope)),
        content_type="text/event-stream",
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response
