"""The client's address and scheme, believing forwarded headers only from configured proxies.

``PAYFLOW_TRUSTED_PROXIES`` lists the proxy addresses or networks (CIDR) in front of PayFlow.
A request from one of them may state the original scheme (``X-Forwarded-Proto``) and client
(``X-Forwarded-For``); from anyone else those headers are ignored.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings

from payflow.observability import SyncAndAsyncMiddleware


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]):
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def is_trusted_proxy(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _networks(tuple(settings.PAYFLOW_TRUSTED_PROXIES)))


def client_address(request) -> str:
    """The nearest address not a trusted proxy: REMOTE_ADDR, or from X-Forwarded-For when the
    peer is a trusted proxy (read right to left, skipping further trusted proxies)."""
    peer = request.META.get("REMOTE_ADDR", "") or "unknown"
    if not is_trusted_proxy(peer):
        return peer
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for hop in reversed([hop for hop in hops if hop]):
        if not is_trusted_proxy(hop):
            return hop
    return peer


class TrustedProxyMiddleware(SyncAndAsyncMiddleware):
    """Drop X-Forwarded-Proto unless the peer is a trusted proxy, so SECURE_PROXY_SSL_HEADER
    (which Django reads from any client) only believes the proxies."""

    def before(self, request):
        if "HTTP_X_FORWARDED_PROTO" in request.META and not is_trusted_proxy(
            request.META.get("REMOTE_ADDR", "")
        ):
            del request.META["HTTP_X_FORWARDED_PROTO"]
            request.__dict__.pop("headers", None)
        return None
