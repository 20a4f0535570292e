"""The ASGI servers a PayFlow process can run on, and the command line that starts each.

daphne is the embedded default (``make run``, the tests); uvicorn (websockets' sans-I/O
protocol) is the recommended production server: less memory and latency per stream connection
and a graceful stop (docs/transactions.md). Both, uvicorn with wsproto, and granian serve the
same ``payflow.asgi:application``; ``manage.py serve --server``, tests/server.py and
bench/stream.py use these commands. Per-process work (stream relay, payments janitor) starts
with the first connection on every server, since daphne has no ASGI lifespan; the lifespan's
shutdown, where a server sends it, runs the clean-stop hooks (payflow/lifetime.py).
"""

import sys

SERVERS = ("daphne", "uvicorn", "uvicorn-wsproto", "granian")
# What ``manage.py serve`` offers: daphne, and uvicorn (pinned in requirements.txt, tested end to
# end). The other two are for bench/stream.py (install wsproto / granian to measure them).
SERVE_CHOICES = ("daphne", "uvicorn")
DEFAULT_SERVER = "daphne"
APPLICATION = "payflow.asgi:application"
GRACEFUL_SHUTDOWN_SECONDS = 5


def server_command(
    server: str, *, host: str, port: int, quiet: bool = False, application: str = APPLICATION
) -> list[str]:
    """argv that serves PayFlow (or another ``application``) on ``host:port`` with ``server``,
    one process."""
    if server == "daphne":
        cmd = [sys.executable, "-m", "daphne", "-b", host, "-p", str(port)]
        return [*cmd, *(["-v", "0"] if quiet else []), application]
    if server in ("uvicorn", "uvicorn-wsproto"):
        ws = "wsproto" if server == "uvicorn-wsproto" else "websockets-sansio"
        cmd = [sys.executable, "-m", "uvicorn", "--host", host, "--port", str(port)]
        cmd += ["--loop", "auto", "--http", "httptools", "--ws", ws, "--lifespan", "on"]
        # A stopping process waits this long for open connections: WebSockets are closed at
        # once (1012), but an SSE response never ends by itself, so it is cut after the grace
        # period and its client resumes elsewhere from its last id.
        cmd += ["--timeout-graceful-shutdown", str(GRACEFUL_SHUTDOWN_SECONDS)]
        # daphne's defaults: no per-message compression, 1 MiB messages at most.
        cmd += ["--ws-per-message-deflate", "false", "--ws-max-size", str(2**20)]
        # Forwarded headers are PayFlow's to judge (PAYFLOW_TRUSTED_PROXIES), as under daphne.
        cmd += ["--no-server-header", "--no-proxy-headers"]
        if quiet:
            cmd += ["--log-level", "warning", "--no-access-log"]
        return [*cmd, application]
    if server == "granian":
        cmd = [sys.executable, "-m", "granian", "--interface", "asgi", "--host", host]
        cmd += ["--port", str(port), "--workers", "1", "--loop", "uvloop"]
        if quiet:
            cmd += ["--log-level", "warning"]
        return [*cmd, application]
    raise ValueError(f"unknown server {server!r}; use one of {', '.join(SERVERS)}")
