"""WebSocket routes of every app, gathered for the ASGI router."""

import importlib

WEBSOCKET_APPS = ["transactions", "chaos"]


def websocket_urlpatterns() -> list:
    patterns = []
    for app in WEBSOCKET_APPS:
        try:
            module = importlib.import_module(f"{app}.routing")
        except ModuleNotFoundError as exc:
            if exc.name != f"{app}.routing":
                raise
            continue
        patterns.extend(module.websocket_urlpatterns)
    return patterns
