"""Benchmark of processor webhooks: deliveries/s applied on PostgreSQL by 2 server processes.

N payments wait in processing, each with a unique amount. One signed ``payment.succeeded``
per payment, plus a share of duplicates (default 10 %), shuffled, is POSTed to two daphne
processes (alternately, C at a time) sharing PostgreSQL and Redis. A WebSocket client on the
transactions stream notes when each payment's ``capture/succeeded`` event arrives; the latency
is from the first POST of its event to that receipt.

    DATABASE_URL is not used: the bench owns --pg-url (created if missing) and --redis-url.
    .venv/bin/python bench/webhooks.py                      # 1,000 payments, 10 % duplicates
    .venv/bin/python bench/webhooks.py --payments 300 --concurrency 8
"""

import argparse
import asyncio
import contextlib
import json
import random
import secrets
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import stream as stream_bench  # noqa: E402

from payments.signatures import HEADER, signature_header  # noqa: E402

DEV_SECRET = "whsec_payflow_development_only"
AMOUNT_BASE = 7_000_000


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="Processor webhook benchmark (see docstring).")
    parser.add_argument("--payments", type=int, default=1000)
    parser.add_argument("--duplicates", type=float, default=0.1, help="share delivered twice")
    parser.add_argument("--concurrency", type=int, default=16, help="deliveries in flight")
    parser.add_argument(
        "--pg-url", default="postgres://postgres@127.0.0.1:5432/payflow_webhooks_bench"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/5")
    parser.add_argument("--json", default=str(ROOT / "artifacts" / "bench-webhooks.json"))
    args = parser.parse_args(argv)
    if args.payments < 1 or args.concurrency < 1:
        parser.error("--payments and --concurrency: must be at least 1")
    if not 0 <= args.duplicates <= 1:
        parser.error("--duplicates: must be between 0 and 1")
    return args


SETUP = """
import json
from payments.models import Payment
from payments.services import PaymentInput, payment_create, payment_transition
Payment.objects.filter(amount__gte={base}).update(amount=1)  # earlier runs' amounts stay unique
refs = []
for i in range({count}):
    payment = payment_create(user=None, data=PaymentInput({base} + i, "USD", "Bench Co",
                                                          "ACCT-1", "ach"))
    for to in ("submitted", "processing"):
        payment_transition(public_id=payment.public_id, to=to, actor=None)
    refs.append([payment.public_id, {base} + i])
print("REFS=" + json.dumps(refs))
"""


def create_payments(env: dict, count: int) -> list[tuple[str, int]]:
    out = stream_bench.manage(env, "shell", "-c", SETUP.format(base=AMOUNT_BASE, count=count))
    return [tuple(row) for row in json.loads(out.split("REFS=", 1)[1])]


def events_for(refs, duplicates: float, rng: random.Random) -> list[tuple[str, bytes]]:
    deliveries = []
    now = int(time.time())
    for ref, _amount in refs:
        body = {
            "id": f"evt_bench{secrets.token_hex(10)}",  # new ids every run: none seen before
            "type": "payment.succeeded",
            "created": now,
            "data": {"payment_id": ref},
        }
        raw = json.dumps(body, separators=(",", ":")).encode()
        deliveries.append((ref, raw))
        if rng.random() < duplicates:
            deliveries.append((ref, raw))
    rng.shuffle(deliveries)
    return deliveries


async def watch_stream(server, token, amounts: dict[int, str], seen: dict[str, float], done):
    import websockets

    url = f"ws://127.0.0.1:{server.port}/ws/transactions/?token={token}"
    async with websockets.connect(url, origin=f"http://127.0.0.1:{server.port}") as ws:
        while not done.is_set():
            try:
                raw = await asyncio.wait_for(ws.recv(), 0.5)
            except TimeoutError:
                continue
            message = json.loads(raw)
            if message.get("type") != "events":
                continue
            for event in message["events"]:
                ref = amounts.get(event["amount"])
                if ref and event["kind"] == "capture" and event["status"] == "succeeded":
                    seen.setdefault(ref, time.time())
            if len(seen) == len(amounts):
                done.set()


async def deliver_all(servers, deliveries, concurrency: int, sent: dict[str, float]) -> dict:
    import httpx

    outcomes: dict[str, int] = {}
    queue = list(enumerate(deliveries))
    async with httpx.AsyncClient(timeout=30) as client:

        async def worker():
            while queue:
                index, (ref, raw) = queue.pop()
                server = servers[index % len(servers)]
                header = signature_header(
                    secrets=[DEV_SECRET], timestamp=int(time.time()), body=raw
                )
                sent.setdefault(ref, time.time())
                response = await client.post(
                    f"http://127.0.0.1:{server.port}/webhooks/processor",
                    content=raw,
                    headers={HEADER: header, "Content-Type": "application/json"},
                )
                outcome = response.json().get("outcome", f"http_{response.status_code}")
                outcomes[outcome] = outcomes.get(outcome, 0) + 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return outcomes


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


async def measure(args, servers, token, refs) -> dict:
    amounts = {amount: ref for ref, amount in refs}
    seen: dict[str, float] = {}
    sent: dict[str, float] = {}
    done = asyncio.Event()
    watcher = asyncio.create_task(watch_stream(servers[0], token, amounts, seen, done))
    await asyncio.sleep(1.0)
    deliveries = events_for(refs, args.duplicates, random.Random(1))
    started = time.perf_counter()
    outcomes = await deliver_all(servers, deliveries, args.concurrency, sent)
    elapsed = time.perf_counter() - started
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(done.wait(), 30)
    done.set()
    await watcher
    latencies = [seen[ref] - sent[ref] for ref in seen if ref in sent]
    return {
        "payments": len(refs),
        "deliveries": len(deliveries),
        "outcomes": outcomes,
        "seconds": round(elapsed, 2),
        "deliveries_per_s": round(len(deliveries) / elapsed, 1),
        "applied_per_s": round(outcomes.get("applied", 0) / elapsed, 1),
        "seen_on_stream": len(seen),
        "delivery_to_stream_ms": {
            "p50": round(percentile(latencies, 0.50) * 1000, 1),
            "p95": round(percentile(latencies, 0.95) * 1000, 1),
            "p99": round(percentile(latencies, 0.99) * 1000, 1),
            "max": round(max(latencies) * 1000, 1) if latencies else None,
        },
    }


def main(argv=None) -> int:
    args = parse_args(argv)
    stream_bench.ensure_postgres_database(args.pg_url)
    env = stream_bench.payflow_env(args.pg_url, args.redis_url, 500)
    env.update(JANITOR_INTERVAL_SECONDS="0", REDIS_PREFIX="webhooks-bench")
    token = stream_bench.prepare_database(env)
    refs = create_payments(env, args.payments)
    servers = [stream_bench.start_payflow(env, "wh-a"), stream_bench.start_payflow(env, "wh-b")]
    try:
        for server in servers:
            asyncio.run(stream_bench.warm_up(server, token))
        report = asyncio.run(measure(args, servers, token, refs))
    finally:
        for server in servers:
            server.stop()
    report["concurrency"] = args.concurrency
    report["duplicate_share"] = args.duplicates
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    ok = report["outcomes"].get("applied") == len(refs) and report["seen_on_stream"] == len(refs)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
