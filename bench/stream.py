"""Benchmark of the transactions stream against a bare asyncio + websockets baseline.

Every scenario feeds events through the real producer path (``record_transaction_event`` in a
committed transaction, in a separate producer process) and measures on real sockets:
delivered events/s, latency from commit to client receipt (p50/p95/p99), drops, server RSS and
event-loop lag. Scenarios (``--scenarios``, all by default):

  embedded   one server process (daphne, or --server) on SQLite + in-memory layer, C clients
             (a share over SSE)
  baseline   bench/baseline.py (uvloop + websockets, same queue capacity), same clients/rate
  postgres   two daphne processes on PostgreSQL + Redis, clients split across them
  big        1,000 clients on the embedded server and on the baseline
  bare       the big run against bench/baseline_asgi.py: the baseline's fan-out as a bare ASGI
             app on each --server, so a server's own cost is told apart from PayFlow's
  slow       the embedded run with 10% slow readers: fast p99, memory, exact drop accounting
  churn      10,000 connect/disconnect cycles: does server memory come back?
  huge       5,000 clients on one embedded daphne process (every client must get every event)
  stall      PostgreSQL + Redis, 2 daphne: the relay holder frozen (SIGSTOP) 8 s, then resumed;
             drops and completeness for fast clients
  outage     clients replaying 5,000 events when a bench-owned PostgreSQL stops for 5 s and
             comes back: does every client get every event, and how long does it take?

    .venv/bin/python bench/stream.py                 # everything, about 3-4 minutes
    .venv/bin/python bench/stream.py --scenarios embedded,baseline --seconds 5
    .venv/bin/python bench/stream.py --scenarios big --server daphne,uvicorn,granian

``--server`` picks the ASGI server of the embedded scenarios (embedded, big, slow, churn, huge);
with several, each runs in turn and its results are keyed ``<scenario>_<server>`` (daphne keeps
the plain key). The multi-process scenarios always use daphne.
"""

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PY = sys.executable
ALL_SCENARIOS = [
    "embedded", "baseline", "postgres", "big", "bare", "slow", "churn", "huge", "stall", "outage",
]  # fmt: skip
SERVERS = ("daphne", "uvicorn", "uvicorn-wsproto", "granian")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Transactions stream benchmark (see the module docstring).", allow_abbrev=False
    )
    sub = parser.add_subparsers(dest="command")
    produce = sub.add_parser("produce", help="internal: the producer process", allow_abbrev=False)
    produce.add_argument("--rate", type=float, required=True)
    produce.add_argument("--seconds", type=float, required=True)
    produce.add_argument("--out", required=True)
    produce.add_argument("--ingest", default="")
    parser.add_argument("--scenarios", default=",".join(ALL_SCENARIOS))
    parser.add_argument(
        "--server",
        default="daphne",
        help=f"ASGI server(s) of the embedded scenarios, comma-separated: {', '.join(SERVERS)}",
    )
    parser.add_argument("--clients", type=int, default=200, help="clients per scenario")
    parser.add_argument("--sse-share", type=float, default=0.1, help="share of SSE clients")
    parser.add_argument("--rate", type=float, default=200, help="events/s fed")
    parser.add_argument("--seconds", type=float, default=10, help="feeding time per scenario")
    parser.add_argument("--big-clients", type=int, default=1000)
    parser.add_argument("--big-rate", type=float, default=50)
    parser.add_argument("--slow-share", type=float, default=0.1)
    parser.add_argument(
        "--slow-reader-rate", type=float, default=20, help="events/s a slow client processes"
    )
    parser.add_argument("--huge-clients", type=int, default=5000)
    parser.add_argument("--huge-rate", type=float, default=5)
    parser.add_argument("--huge-connects-per-second", type=float, default=100)
    parser.add_argument("--stall-seconds", type=float, default=8)
    parser.add_argument(
        "--stall-lease", type=int, default=30, help="lease during the stall (30: no takeover)"
    )
    parser.add_argument("--outage-events", type=int, default=5_000)
    parser.add_argument("--outage-clients", type=int, default=100)
    parser.add_argument("--outage-seconds", type=float, default=5)
    parser.add_argument("--churn", type=int, default=10_000, help="connect/disconnect cycles")
    parser.add_argument("--churn-concurrency", type=int, default=50)
    parser.add_argument("--capacity", type=int, default=500, help="per-connection queue")
    parser.add_argument(
        "--pg-url", default="postgres://postgres@127.0.0.1:5432/payflow_transactions_bench"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/4")
    parser.add_argument("--json", default=str(ROOT / "artifacts" / "bench-stream.json"))
    args = parser.parse_args(argv)
    for name in ("clients", "big_clients", "churn", "churn_concurrency", "capacity"):
        if getattr(args, name, 1) < 1:
            parser.error(f"--{name.replace('_', '-')}: must be at least 1")
    unknown = set(args.scenarios.split(",")) - set(ALL_SCENARIOS)
    if args.command is None and unknown:
        parser.error(f"--scenarios: unknown {', '.join(sorted(unknown))}")
    bad_servers = set(args.server.split(",")) - set(SERVERS)
    if args.command is None and bad_servers:
        parser.error(f"--server: unknown {', '.join(sorted(bad_servers))}")
    return args


# --- the producer process -----------------------------------------------------------------


def run_producer(args) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "payflow.settings")
    import django

    django.setup()
    from django.db import transaction

    from transactions.events import record_transaction_event
    from transactions.services import simulated_transaction

    ingest = None
    if args.ingest:
        from websockets.sync.client import connect

        ingest = connect(args.ingest, compression=None)
    rng = random.Random(1)
    commits: dict[int, float] = {}
    started = last = time.monotonic()
    owed = 0.0
    while time.monotonic() - started < args.seconds:
        now = time.monotonic()
        owed += args.rate * (now - last)
        last = now
        due, owed = int(owed), owed - int(owed)
        if due:
            with transaction.atomic():
                events = [
                    record_transaction_event(**simulated_transaction(rng, failure_rate=0.05))
                    for _ in range(due)
                ]
            committed_at = time.time()
            for event in events:
                commits[event.id] = committed_at
            if ingest is not None:
                ingest.send(json.dumps([event.as_wire() for event in events]))
        time.sleep(max(0.0, 0.02 - (time.monotonic() - now)))
    if ingest is not None:
        ingest.close()
    Path(args.out).write_text(json.dumps(commits))


# --- servers --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (from /proc; children not included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def process_tree(pid: int) -> list[int]:
    """``pid`` and its live descendants (granian serves from a worker process it spawns)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def _tree_sum(pid: int, measure) -> float:
    total = 0
    for member in process_tree(pid):
        with contextlib.suppress(OSError, IndexError, ValueError):
            total += measure(member)
    return total


class Server:
    def __init__(self, cmd: list[str], env: dict, port: int, log: Path):
        self.cmd, self.env, self.port, self.log = cmd, env, port, log
        self.process: subprocess.Popen | None = None

    def start(self) -> "Server":
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            self.cmd,
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE if "baseline" in self.cmd[1] else self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
            text="baseline" in self.cmd[1],
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early: {' '.join(self.cmd)}; see {self.log}")
            time.sleep(0.1)
        raise RuntimeError(f"server on {self.port} did not start")

    @property
    def rss_kib(self) -> int:
        return _tree_sum(self.process.pid, rss_kib)

    @property
    def cpu_seconds(self) -> float:
        return _tree_sum(self.process.pid, cpu_seconds)

    def stop(self) -> str:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            out, _ = self.process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            out, _ = self.process.communicate()
        return out or ""


def payflow_env(db_url: str, redis_url: str, capacity: int) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "PAYFLOW_ENV": "development",
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        "STREAM_QUEUE_CAPACITY": str(capacity),
        "STREAM_HEARTBEAT_SECONDS": "5",
        "CHAOS_ENABLED": "false",
        "REDIS_PREFIX": "transactions-bench",
        "DJANGO_SETTINGS_MODULE": "payflow.settings",
    }
    env.pop("REDIS_URL", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def manage(env: dict, *args: str) -> str:
    result = subprocess.run(
        [PY, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-2000:]}")
    return result.stdout


def prepare_database(env: dict) -> str:
    """Migrate and return a viewer's bearer token."""
    manage(env, "migrate", "--noinput", "-v", "0")
    script = (
        "from django.contrib.auth import get_user_model\n"
        "from payflow.accounts.roles import Role, assign_role\n"
        "from payflow.accounts.services import api_token_create\n"
        "user, _ = get_user_model().objects.get_or_create(username='bench-viewer')\n"
        "assign_role(user, Role.VIEWER)\n"
        "print('TOKEN=' + api_token_create(user=user)[1])\n"
    )
    out = manage(env, "shell", "-c", script)
    return next(line[6:] for line in out.splitlines() if line.startswith("TOKEN="))


def ensure_postgres_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def server_command(server: str, port: int, application: str | None = None) -> list[str]:
    """How the bench starts one PayFlow process (or another ``application``) on ``server``
    (see ``manage.py serve``)."""
    from payflow.servers import APPLICATION
    from payflow.servers import server_command as command

    app = application or APPLICATION
    return command(server, host="127.0.0.1", port=port, quiet=True, application=app)


def start_payflow(env: dict, tag: str, server: str = "daphne") -> Server:
    port = free_port()
    cmd = server_command(server, port)
    log = ROOT / "artifacts" / "logs" / f"bench-{tag}-{server}-{port}.log"
    return Server(cmd, env, port, log).start()


def start_bare_asgi(server: str, capacity: int) -> Server:
    port = free_port()
    cmd = server_command(server, port, application="bench.baseline_asgi:application")
    log = ROOT / "artifacts" / "logs" / f"bench-bare-{server}-{port}.log"
    return Server(cmd, {**os.environ, "BASELINE_CAPACITY": str(capacity)}, port, log).start()


def start_baseline(capacity: int) -> Server:
    port = free_port()
    cmd = [PY, str(ROOT / "bench" / "baseline.py"), "--port", str(port)]
    cmd += ["--capacity", str(capacity)]
    log = ROOT / "artifacts" / "logs" / f"bench-baseline-{port}.log"
    return Server(cmd, {**os.environ}, port, log).start()


def loop_lag_histogram(server: Server) -> dict[float, float]:
    import httpx

    text = httpx.get(f"http://127.0.0.1:{server.port}/metrics", timeout=60).text
    buckets = {}
    for line in text.splitlines():
        if line.startswith("payflow_stream_event_loop_lag_seconds_bucket"):
            le = line.split('le="', 1)[1].split('"', 1)[0]
            buckets[float("inf") if le == "+Inf" else float(le)] = float(line.rsplit(" ", 1)[1])
        elif line.startswith("payflow_stream_event_loop_lag_seconds_sum"):
            buckets[-1.0] = float(line.rsplit(" ", 1)[1])
    return buckets


def lag_summary(before: dict, after: dict) -> dict:
    total = after.get(float("inf"), 0) - before.get(float("inf"), 0)
    if total <= 0:
        return {"lag_mean_ms": None, "lag_p99_ms": None}
    mean = (after.get(-1.0, 0) - before.get(-1.0, 0)) / total
    p99 = next(
        bound
        for bound in sorted(b for b in after if b >= 0)
        if after[bound] - before.get(bound, 0) >= 0.99 * total
    )
    return {"lag_mean_ms": round(1000 * mean, 2), "lag_p99_ms_at_most": 1000 * p99}


# --- clients --------------------------------------------------------------------------------


@dataclass
class ClientResult:
    transport: str
    slow: bool = False
    sampled: bool = False
    received: int = 0
    dropped: int = 0
    subscribed: bool = False
    ids: list[int] = field(default_factory=list)
    receipts: list[tuple[int, float]] = field(default_factory=list)
    error: str = ""


def handle_message(message: dict, result: ClientResult, received_at: float) -> None:
    kind = message["type"]
    if kind == "events":
        events = message["events"]
        result.received += len(events)
        if result.sampled:
            result.receipts.extend((event["id"], received_at) for event in events)
        if result.slow:
            result.ids.extend(event["id"] for event in events)
    elif kind == "dropped":
        result.dropped += message["count"]
    elif kind == "heartbeat":
        result.subscribed = True


async def ws_client(url: str, origin: str, result: ClientResult, run) -> None:
    import websockets

    kwargs = {"origin": origin, "compression": None, "max_size": None, "open_timeout": 60}
    if result.slow:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        target = urlsplit(url)
        await asyncio.get_running_loop().sock_connect(sock, (target.hostname, target.port))
        kwargs.update(sock=sock, max_queue=1)
    try:
        async with websockets.connect(url, **kwargs) as ws:
            while not run.finished(result):
                try:
                    raw = await asyncio.wait_for(ws.recv(), 0.5)
                except TimeoutError:
                    continue
                message = json.loads(raw)
                handle_message(message, result, time.time())
                if result.slow and not run.draining and message["type"] == "events":
                    # A slow reader: it takes 1/slow_rate s per event it processes.
                    await asyncio.sleep(len(message["events"]) / run.slow_rate)
    except Exception as exc:  # noqa: BLE001 - reported in the results
        result.error = f"{type(exc).__name__}: {exc}"


async def sse_client(client, url: str, token: str, result: ClientResult, run) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with client.stream("GET", url, headers=headers) as response:
            data = None
            async for line in response.aiter_lines():
                if line.startswith("data: "):
                    data = line[6:]
                elif line == "" and data is not None:
                    handle_message(json.loads(data), result, time.time())
                    data = None
                if run.finished(result):
                    break
    except Exception as exc:  # noqa: BLE001 - reported in the results
        result.error = f"{type(exc).__name__}: {exc}"


class Run:
    """Shared state of one measurement: when clients may stop, and how slow readers behave."""

    def __init__(self, slow_rate: float = 20.0):
        self.sent: int | None = None  # known once the producer is done
        self.draining = False
        self.deadline = float("inf")
        self.slow_rate = slow_rate

    def finished(self, result: ClientResult) -> bool:
        if time.monotonic() > self.deadline:
            return True
        return self.sent is not None and result.received + result.dropped >= self.sent


async def run_feed(
    *,
    urls: list[str],
    token: str,
    clients: int,
    sse_share: float,
    slow_share: float,
    slow_rate: float,
    rate: float,
    seconds: float,
    db_env: dict,
    ingest: str = "",
    servers: list[Server],
    sample: int = 100,
    disturb=None,
    connects_per_second: float = 1000,
) -> dict:
    import httpx

    run = Run(slow_rate=slow_rate)
    n_sse = round(clients * sse_share)
    n_slow = round(clients * slow_share)
    results, tasks = [], []
    http = httpx.AsyncClient(timeout=httpx.Timeout(60, read=None), limits=httpx.Limits(
        max_connections=None, max_keepalive_connections=0))  # fmt: skip
    for index in range(clients):
        base = urls[index % len(urls)]
        is_sse = index < n_sse and not ingest
        result = ClientResult(
            transport="sse" if is_sse else "websocket",
            slow=(not is_sse) and n_sse <= index < n_sse + n_slow,
            sampled=index % max(1, clients // sample) == 0,
        )
        results.append(result)
        if is_sse:
            url = base.replace("ws://", "http://") + "/stream/transactions/"
            tasks.append(asyncio.create_task(sse_client(http, url, token, result, run)))
        else:
            origin = base.replace("ws://", "http://")
            path = "/ws" if ingest else f"/ws/transactions/?token={token}"
            tasks.append(asyncio.create_task(ws_client(base + path, origin, result, run)))
        if index % 50 == 49:
            await asyncio.sleep(50 / connects_per_second)  # do not stampede the accept queue
    deadline = time.monotonic() + 120
    while not all(r.subscribed or r.error for r in results):  # noqa: ASYNC110 - many flags
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    failed = [r.error for r in results if r.error]
    rss_connected_start = sum(server.rss_kib for server in servers)
    out = Path(tempfile.mkstemp(suffix=".json")[1])
    cmd = [PY, __file__, "produce", "--rate", str(rate), "--seconds", str(seconds)]
    cmd += ["--out", str(out)]
    if ingest:
        cmd += ["--ingest", ingest]
    cpu_start = sum(server.cpu_seconds for server in servers)
    producer = await asyncio.create_subprocess_exec(*cmd, cwd=ROOT, env=db_env)
    disturbance = asyncio.create_task(disturb()) if disturb is not None else None
    peak_rss = rss_connected_start
    while producer.returncode is None:
        peak_rss = max(peak_rss, sum(server.rss_kib for server in servers))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(producer.wait(), 0.5)
    commits = {int(k): v for k, v in json.loads(out.read_text()).items()}  # noqa: ASYNC240
    out.unlink()  # noqa: ASYNC240
    run.sent = len(commits)
    run.draining = True
    run.deadline = time.monotonic() + 30
    await asyncio.gather(*tasks)
    cpu_used = sum(server.cpu_seconds for server in servers) - cpu_start
    if disturbance is not None:
        await disturbance
    await http.aclose()
    rss_end = sum(server.rss_kib for server in servers)
    latencies = sorted(
        at - commits[event_id]
        for r in results
        if not r.slow
        for event_id, at in r.receipts
        if event_id in commits
    )
    last_receipt = max((at for r in results for _, at in r.receipts), default=time.time())
    first_commit = min(commits.values()) if commits else time.time()
    fast = [r for r in results if not r.slow]
    slow = [r for r in results if r.slow]

    def pct(q):
        return round(1000 * latencies[min(len(latencies) - 1, int(q * len(latencies)))], 1)

    return {
        "clients": clients,
        "sse_clients": sum(r.transport == "sse" for r in results),
        "slow_clients": len(slow),
        "rate": rate,
        "seconds": seconds,
        "events_sent": run.sent,
        "connect_errors": len(failed),
        "client_errors": sum(bool(r.error) for r in results),
        "client_error_samples": sorted({r.error[:160] for r in results if r.error})[:5],
        "delivered_total": sum(r.received for r in results),
        # Server CPU from the first commit until every client had everything (or gave up).
        "server_cpu_seconds": round(cpu_used, 2),
        "server_cpu_seconds_per_million_deliveries": round(
            cpu_used * 1e6 / max(1, sum(r.received for r in results)), 1
        ),
        "delivered_per_second": round(
            sum(r.received for r in results) / max(0.001, last_receipt - first_commit)
        ),
        "fast_clients_complete": sum(r.received == run.sent for r in fast),
        "fast_clients_dropped": sum(r.dropped for r in fast),
        "latency_ms": {"p50": pct(0.5), "p95": pct(0.95), "p99": pct(0.99)} if latencies else {},
        "slow_exact_accounting": all(r.received + r.dropped == run.sent for r in slow),
        "slow_dropped_total": sum(r.dropped for r in slow),
        "slow_received_total": sum(r.received for r in slow),
        "rss_connected_mib": round(rss_connected_start / 1024, 1),
        "rss_peak_mib": round(peak_rss / 1024, 1),
        "rss_end_mib": round(rss_end / 1024, 1),
    }


async def churn(url: str, origin: str, token: str, cycles: int, concurrency: int) -> dict:
    import websockets

    done = errors = 0
    queue = asyncio.Queue()
    for _ in range(cycles):
        queue.put_nowait(None)

    async def worker():
        nonlocal done, errors
        while not queue.empty():
            queue.get_nowait()
            try:
                async with websockets.connect(
                    f"{url}/ws/transactions/?token={token}", origin=origin, compression=None
                ) as ws:
                    await asyncio.wait_for(ws.recv(), 10)  # the first heartbeat: subscribed
                done += 1
            except Exception:  # noqa: BLE001 - counted
                errors += 1

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return {"cycles": done, "errors": errors, "seconds": round(time.monotonic() - started, 1)}


# --- scenarios ------------------------------------------------------------------------------


def embedded_env(args, tmp: Path) -> dict:
    db = tmp / "bench.sqlite3"
    return payflow_env(f"sqlite:///{db}", "", args.capacity)


def feed(
    args, *, servers, env, token, clients, rate, slow_share=0.0, ingest="", sse_share=None,
    seconds=None, disturb=None, connects_per_second=1000,
):  # fmt: skip
    urls = [f"ws://127.0.0.1:{server.port}" for server in servers]
    lag_before = [loop_lag_histogram(s) for s in servers] if not ingest else []
    idle = sum(server.rss_kib for server in servers)
    result = asyncio.run(
        run_feed(
            urls=urls,
            token=token,
            clients=clients,
            sse_share=args.sse_share if sse_share is None else sse_share,
            slow_share=slow_share,
            slow_rate=args.slow_reader_rate,
            rate=rate,
            seconds=seconds or args.seconds,
            db_env=env,
            ingest=ingest,
            servers=servers,
            disturb=disturb,
            connects_per_second=connects_per_second,
        )
    )
    result["rss_idle_mib"] = round(idle / 1024, 1)
    result["memory_per_connection_kib"] = round(
        (result["rss_peak_mib"] - result["rss_idle_mib"]) * 1024 / clients, 1
    )
    if lag_before:
        pairs = zip(lag_before, servers, strict=True)
        result["event_loop_lag"] = [lag_summary(b, loop_lag_histogram(s)) for b, s in pairs]
    return result


def scenario_embedded(
    args, tmp, report, *, clients, rate, slow_share=0.0, key="embedded", connects_per_second=1000,
    server_name="daphne",
):  # fmt: skip
    env = embedded_env(args, tmp)
    token = prepare_database(env)
    server = start_payflow(env, key, server_name)
    try:
        asyncio.run(warm_up(server, token))
        report[key] = feed(
            args, servers=[server], env=env, token=token, clients=clients, rate=rate,
            slow_share=slow_share, connects_per_second=connects_per_second,
        )  # fmt: skip
    finally:
        server.stop()
    return env, token


def scenario_baseline(args, tmp, report, *, clients, rate, key="baseline"):
    env = embedded_env(args, tmp)
    prepare_database(env)
    server = start_baseline(args.capacity)
    server.process.stdout.readline()  # {"ready": true}
    try:
        report[key] = feed(
            args, servers=[server], env=env, token="", clients=clients, rate=rate,
            ingest=f"ws://127.0.0.1:{server.port}/ingest", sse_share=0.0,
        )  # fmt: skip
    finally:
        lines = [line for line in server.stop().splitlines() if line.startswith("{")]
        report[key]["event_loop_lag"] = [json.loads(lines[-1])] if lines else []


def scenario_bare(args, tmp, report, *, clients, rate, server_name):
    """The baseline's fan-out as a bare ASGI app on ``server_name``: that server's own cost."""
    env = embedded_env(args, tmp)
    prepare_database(env)
    server = start_bare_asgi(server_name, args.capacity)
    try:
        report[f"big_bare_{server_name}"] = feed(
            args, servers=[server], env=env, token="", clients=clients, rate=rate,
            ingest=f"ws://127.0.0.1:{server.port}/ingest", sse_share=0.0,
        )  # fmt: skip
    finally:
        server.stop()


async def warm_up(server: Server, token: str) -> None:
    """One stream connection of each kind before anything is measured.

    The WebSocket starts the hub and the relay; the SSE request loads the URLconf (the whole
    HTTP application, imported once per process on the first request), which would otherwise
    be counted as memory per connection.
    """
    import httpx
    import websockets

    url = f"ws://127.0.0.1:{server.port}/ws/transactions/?token={token}"
    async with websockets.connect(url, origin=f"http://127.0.0.1:{server.port}") as ws:
        await asyncio.wait_for(ws.recv(), 10)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(timeout=10) as http:
        sse = f"http://127.0.0.1:{server.port}/stream/transactions/"
        async with http.stream("GET", sse, headers=headers) as response:
            async for line in response.aiter_lines():
                if line.startswith("data: "):
                    break
    await asyncio.sleep(0.5)


def scenario_postgres(args, tmp, report):
    ensure_postgres_database(args.pg_url)
    env = payflow_env(args.pg_url, args.redis_url, args.capacity)
    token = prepare_database(env)
    servers = [start_payflow(env, "pg-a"), start_payflow(env, "pg-b")]
    try:
        for server in servers:
            asyncio.run(warm_up(server, token))
        report["postgres"] = feed(
            args, servers=servers, env=env, token=token, clients=args.clients, rate=args.rate
        )
    finally:
        for server in servers:
            server.stop()


def relay_holder_pid(db_url: str) -> int:
    import psycopg

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with psycopg.connect(db_url) as conn:
            row = conn.execute(
                "SELECT holder FROM transactions_streamrelaystate WHERE id = 1"
            ).fetchone()
        if row and row[0]:
            return int(row[0].rsplit(":", 1)[1])
        time.sleep(0.2)
    raise RuntimeError("no relay holder")


def scenario_stall(args, tmp, report):
    """The relay holder frozen for --stall-seconds mid-feed: fast clients must drop nothing."""
    ensure_postgres_database(args.pg_url)
    env = payflow_env(args.pg_url, args.redis_url, args.capacity)
    env["STREAM_LEASE_SECONDS"] = str(args.stall_lease)
    token = prepare_database(env)
    servers = [start_payflow(env, "stall-a"), start_payflow(env, "stall-b")]
    try:
        for server in servers:
            asyncio.run(warm_up(server, token))
        holder = relay_holder_pid(args.pg_url)

        async def freeze_holder():
            await asyncio.sleep(1)
            os.kill(holder, signal.SIGSTOP)
            try:
                await asyncio.sleep(args.stall_seconds)
            finally:
                os.kill(holder, signal.SIGCONT)

        result = feed(
            args, servers=servers, env=env, token=token, clients=args.clients, rate=args.rate,
            seconds=args.stall_seconds + 4, disturb=freeze_holder,
        )  # fmt: skip
        result["stalled_seconds"] = args.stall_seconds
        result["lease_seconds"] = args.stall_lease
        report["stall"] = result
    finally:
        for server in servers:
            server.stop()


async def replay_clients(
    url: str, origin: str, token: str, clients: int, expected: int, stats: list[dict]
) -> dict:
    """Clients resuming from id 0, reading as fast as they can until each has ``expected``.

    Like the page, a client whose connection ends reconnects after 1 s with the last id it saw.
    """
    import websockets

    stats.extend(
        {"events": 0, "heartbeats": 0, "closing": 0, "dropped": 0, "reconnects": 0, "last": 0}
        for _ in range(clients)
    )
    started = time.monotonic()
    finished_at = [0.0] * clients

    async def one(index):
        stat = stats[index]
        while stat["events"] < expected:
            try:
                async with websockets.connect(
                    f"{url}/ws/transactions/?since={stat['last']}&token={token}", origin=origin,
                    compression=None, max_size=None, open_timeout=60,
                ) as ws:  # fmt: skip
                    while stat["events"] < expected:
                        message = json.loads(await asyncio.wait_for(ws.recv(), 60))
                        kind = message["type"]
                        if kind == "events":
                            stat["events"] += len(message["events"])
                            stat["last"] = message["events"][-1]["id"]
                        elif kind == "heartbeat":
                            stat["heartbeats"] += 1
                        elif kind == "closing":
                            stat["closing"] += 1
                        elif kind == "dropped":
                            stat["dropped"] += message["count"]
            except (OSError, websockets.ConnectionClosed, websockets.InvalidHandshake):
                stat["reconnects"] += 1
                await asyncio.sleep(1)
        finished_at[index] = time.monotonic() - started

    outcomes = await asyncio.gather(*(one(i) for i in range(clients)), return_exceptions=True)
    return {
        "errors": [repr(o) for o in outcomes if isinstance(o, BaseException)][:5],
        "complete_clients": sum(stat["events"] == expected for stat in stats),
        "dropped_total": sum(stat["dropped"] for stat in stats),
        "closing_messages": sum(stat["closing"] for stat in stats),
        "reconnects": sum(stat["reconnects"] for stat in stats),
        "heartbeats_total": sum(stat["heartbeats"] for stat in stats),
        "seconds_to_complete_max": round(max(finished_at), 1),
    }


def scenario_outage(args, tmp, report):
    """A bench-owned PostgreSQL stopped while clients replay, then started again."""
    from tests.transactions.owned_postgres import OwnedPostgres

    cluster = OwnedPostgres().init()
    server = None
    try:
        env = payflow_env(cluster.url, "", args.capacity)
        env["STREAM_REPLAY_MAX_EVENTS"] = str(args.outage_events * 2)
        env["STREAM_HEARTBEAT_SECONDS"] = "1"
        token = prepare_database(env)
        cluster.produce(args.outage_events)
        expected = len(cluster.event_ids())
        server = start_payflow(env, "outage")
        asyncio.run(warm_up(server, token))
        origin, url = f"http://127.0.0.1:{server.port}", f"ws://127.0.0.1:{server.port}"

        async def run():
            stats: list[dict] = []
            clients = asyncio.create_task(
                replay_clients(url, origin, token, args.outage_clients, expected, stats)
            )
            # Stop the database once every client is replaying (has some events, not all).
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not (  # noqa: ASYNC110
                len(stats) == args.outage_clients and all(s["events"] for s in stats)
            ):
                await asyncio.sleep(0.02)
            mid_replay = sum(0 < s["events"] < expected for s in stats)
            cluster.stop()
            stopped_at = time.monotonic()
            await asyncio.sleep(args.outage_seconds)
            cluster.start()
            result = await clients
            result["clients_mid_replay_at_stop"] = mid_replay
            result["seconds_after_restart_max"] = round(
                time.monotonic() - stopped_at - args.outage_seconds, 1
            )
            return result

        result = asyncio.run(run())
        result.update(
            clients=args.outage_clients,
            events_each=expected,
            outage_seconds=args.outage_seconds,
        )
        report["outage"] = result
    finally:
        if server is not None:
            server.stop()
        cluster.destroy()


def scenario_churn(args, tmp, report, *, key="churn", server_name="daphne"):
    env = embedded_env(args, tmp)
    token = prepare_database(env)
    server = start_payflow(env, key, server_name)
    origin = f"http://127.0.0.1:{server.port}"
    url = f"ws://127.0.0.1:{server.port}"
    try:
        asyncio.run(churn(url, origin, token, 300, args.churn_concurrency))  # warm-up
        time.sleep(1)
        before = server.rss_kib
        rounds, result = [], {"cycles": 0, "errors": 0, "seconds": 0.0}
        per_round = max(1, args.churn // 5)
        while result["cycles"] + result["errors"] < args.churn:
            step = asyncio.run(churn(url, origin, token, per_round, args.churn_concurrency))
            for name in result:
                result[name] += step[name]
            time.sleep(1)  # let closed connections be collected
            rounds.append(round(server.rss_kib / 1024, 1))
        after = server.rss_kib
        result.update(
            rss_before_mib=round(before / 1024, 1),
            rss_after_each_fifth_mib=rounds,
            rss_after_mib=round(after / 1024, 1),
            rss_growth_last_four_fifths_kib=round((rounds[-1] - rounds[0]) * 1024),
        )
        report[key] = result
    finally:
        server.stop()


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.command == "produce":
        run_producer(args)
        return 0
    import uvloop

    uvloop.install()
    scenarios = args.scenarios.split(",")
    report: dict = {
        "machine": {
            "cpus": os.cpu_count(),
            "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30),
            "python": sys.version.split()[0],
        },
        "args": {k: v for k, v in vars(args).items() if k != "command"},
    }
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="payflow-bench-") as tmp_name:
        tmp = Path(tmp_name)
        servers = args.server.split(",")

        def keyed(key, server):
            return key if server == "daphne" else f"{key}_{server}"

        def each_server(run):
            return lambda: [run(server) for server in servers]

        steps = {
            "embedded": each_server(lambda s: scenario_embedded(
                args, tmp, report, clients=args.clients, rate=args.rate,
                key=keyed("embedded", s), server_name=s,
            )),
            "baseline": lambda: scenario_baseline(
                args, tmp, report, clients=args.clients, rate=args.rate
            ),
            "postgres": lambda: scenario_postgres(args, tmp, report),
            "big": lambda: (
                [scenario_embedded(args, tmp, report, clients=args.big_clients,
                                   rate=args.big_rate, key=keyed("big", s), server_name=s)
                 for s in servers],
                scenario_baseline(args, tmp, report, clients=args.big_clients,
                                  rate=args.big_rate, key="big_baseline"),
            ),
            "slow": each_server(lambda s: scenario_embedded(
                args, tmp, report, clients=args.clients, rate=args.rate,
                slow_share=args.slow_share, key=keyed("slow", s), server_name=s,
            )),
            "churn": each_server(
                lambda s: scenario_churn(args, tmp, report, key=keyed("churn", s), server_name=s)
            ),
            "huge": each_server(lambda s: scenario_embedded(
                args, tmp, report, clients=args.huge_clients, rate=args.huge_rate,
                key=keyed("huge", s), connects_per_second=args.huge_connects_per_second,
                server_name=s,
            )),
            "bare": each_server(lambda s: scenario_bare(
                args, tmp, report, clients=args.big_clients, rate=args.big_rate, server_name=s
            )),
            "stall": lambda: scenario_stall(args, tmp, report),
            "outage": lambda: scenario_outage(args, tmp, report),
        }  # fmt: skip
        for name in scenarios:
            step_started = time.monotonic()
            print(f"== {name}", flush=True)
            steps[name]()
            print(f"   done in {time.monotonic() - step_started:.0f} s", flush=True)
            Path(args.json).parent.mkdir(parents=True, exist_ok=True)
            Path(args.json).write_text(json.dumps(report, indent=2))  # what we have so far
    for prefix, base in (("embedded", "baseline"), ("big", "big_baseline")):
        for ours in [key for key in list(report) if key.split("_")[0] == prefix]:
            if base in report and ours != base and not ours.endswith("_vs_baseline"):
                report[f"{ours}_vs_baseline"] = ratios(report[ours], report[base])
    for server in servers:  # PayFlow against the bare app on the same server
        ours, bare = keyed("big", server), f"big_bare_{server}"
        if ours in report and bare in report:
            report[f"{ours}_vs_bare_{server}"] = ratios(report[ours], report[bare])
    report["total_seconds"] = round(time.monotonic() - started)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    return 0


def ratios(ours: dict, base: dict) -> dict:
    def ratio(a, b):
        return round(a / b, 2) if a and b else None

    return {
        "throughput_ratio": ratio(ours["delivered_per_second"], base["delivered_per_second"]),
        "p99_latency_ratio": ratio(ours["latency_ms"].get("p99"), base["latency_ms"].get("p99")),
        "memory_per_connection_ratio": ratio(
            ours["memory_per_connection_kib"], base["memory_per_connection_kib"]
        ),
        "cpu_per_delivery_ratio": ratio(
            ours["server_cpu_seconds_per_million_deliveries"],
            base["server_cpu_seconds_per_million_deliveries"],
        ),
    }


if __name__ == "__main__":
    sys.exit(main())
