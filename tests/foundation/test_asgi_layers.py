"""PayFlow's own ASGI layers hand the inner application's coroutine over instead of awaiting it.

A stream connection lives for hours and passes through every layer; a layer that awaited would
keep its frame alive all that time. Servers must still take each layer for an ASGI 3 app.
"""

import asyncio

import pytest
from asgiref.compatibility import is_double_callable

from payflow.routing import route_direct
from payflow.ws_origin import CookieSessionOriginValidator
from payments.background import with_payments_background
from transactions.transport import stream_aware

# A lifespan scope passes every layer untouched: none of them starts background work for it.
LIFESPAN = {"type": "lifespan"}


async def inner(scope, receive, send):
    return "served"


async def other(scope, receive, send):
    return "fallback"


LAYERS = {
    "payments background": (with_payments_background(inner), LIFESPAN),
    "stream transport": (stream_aware(inner), LIFESPAN),
    "websocket origin": (CookieSessionOriginValidator(inner), LIFESPAN),
    "direct websocket route": (
        route_direct({"/ws/x/": inner}, other),
        {"type": "websocket", "path": "/ws/x/"},
    ),
}


@pytest.mark.parametrize("name", LAYERS)
def test_layer_returns_the_inner_coroutine_itself(name):
    layer, scope = LAYERS[name]
    handed_over = layer(scope, None, None)
    try:
        assert handed_over.cr_code is inner.__code__
        assert not is_double_callable(layer)
    finally:
        assert asyncio.run(handed_over) == "served"


def test_direct_route_hands_other_paths_to_the_fallback():
    layer = route_direct({"/ws/x/": inner}, other)
    handed_over = layer({"type": "websocket", "path": "/ws/y/"}, None, None)
    assert handed_over.cr_code is other.__code__
    assert asyncio.run(handed_over) == "fallback"
