"""Import and match a large camt.053 statement against as many open payout items.

Builds N open items (bulk-inserted in-transit batches) and a camt.053 with N entries (most
settle one item each by id, some are batch debits, amount mismatches, returns and unknown
lines), then runs the real import service once and prints one JSON line: the time of each phase,
peak Python memory (tracemalloc) and the process's peak RSS, and the query count.

    DATABASE_URL=postgres://... .venv/bin/python bench/reconciliation.py --lines 100000
    .venv/bin/python bench/reconciliation.py --lines 10000          # SQLite in a temp file

Runs against its own database: with DATABASE_URL it creates and drops ``<name>_bench``; without,
a temporary SQLite file. Results go in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _setup(database_url: str | None) -> None:
    if database_url:
        import dj_database_url
        import psycopg

        parsed = dj_database_url.parse(database_url)
        name = f"{parsed['NAME']}_bench"
        admin = database_url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = database_url.rsplit("/", 1)[0] + f"/{name}"
    else:
        os.environ.pop("DATABASE_URL", None)
        os.environ["SQLITE_PATH"] = tempfile.mktemp(suffix=".sqlite3", prefix="recon-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "payflow.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # As in production: DEBUG keeps the text of the last 9,000 queries (megabytes here).
    os.environ.setdefault("DEBUG", "0")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _items(count: int, per_batch: int, day: dt.date):
    from django.utils import timezone

    from payouts.models import PayoutBatch, PayoutItem

    now = timezone.now()
    batches = PayoutBatch.objects.bulk_create(
        [
            PayoutBatch(
                name=f"bench {n}",
                currency="EUR",
                rail="sepa",
                business_days=1,
                calendar="TARGET2",
                bank_time_zone="Europe/Berlin",
                cutoff=dt.time(17, 0),
                submitted_at=now,
                expected_settlement_date=day,
                settlement_deadline=now + dt.timedelta(days=1),
                status="in_transit",
                status_changed_at=now,
            )
            for n in range(count // per_batch)
        ],
        batch_size=2000,
    )
    items = []
    for batch in batches:
        for n in range(per_batch):
            items.append(
                PayoutItem(
                    batch=batch,
                    recipient_name=f"r{n}",
                    account_reference="••••0000",
                    amount=1000 + n,
                )
            )
    PayoutItem.objects.bulk_create(items, batch_size=5000)
    return batches, list(
        PayoutItem.objects.order_by("pk").values_list("public_id", "amount", "batch__public_id")
    )


def _camt(items, batches_by_id, day: dt.date) -> bytes:
    """~94% single settlements, 1% batch debits, 2% mismatches, 1% returns, 2% unknown."""
    parts = []
    total = 0
    skip_batches = set()
    for n, (item_id, amount, batch_id) in enumerate(items):
        if batch_id in skip_batches:
            continue
        bucket = n % 100
        if bucket == 0 and n % 10_000 == 0:
            batch_total = sum(a for _i, a, b in items[n : n + 200] if b == batch_id)
            skip_batches.add(batch_id)
            ref, ind, value, reason = batch_id, "DBIT", batch_total, ""
        elif bucket in (1, 2):
            ref, ind, value, reason = item_id, "DBIT", amount + 7, ""
        elif bucket == 3:
            ref, ind, value, reason = item_id, "CRDT", amount, "AC04"
        elif bucket in (4, 5):
            ref, ind, value, reason = f"UNKNOWN{n}", "DBIT", 500, ""
        else:
            ref, ind, value, reason = item_id, "DBIT", amount, ""
        total += value if ind == "CRDT" else -value
        rtr = f"<RtrInf><Rsn><Cd>{reason}</Cd></Rsn></RtrInf>" if reason else ""
        parts.append(
            f'<Ntry><Amt Ccy="EUR">{value / 100:.2f}</Amt><CdtDbtInd>{ind}</CdtDbtInd>'
            f"<Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>{day}</Dt></BookgDt><ValDt><Dt>{day}</Dt></ValDt>"
            f"<NtryDtls><TxDtls><Refs><EndToEndId>{ref}</EndToEndId></Refs>{rtr}</TxDtls></NtryDtls></Ntry>"
        )
    while len(parts) < len(items):  # items of batch debits: pad to one line per item
        total -= 500
        parts.append(
            f'<Ntry><Amt Ccy="EUR">5.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>'
            f"<BookgDt><Dt>{day}</Dt></BookgDt><NtryDtls><TxDtls><Refs>"
            f"<EndToEndId>FEE{len(parts)}</EndToEndId></Refs></TxDtls></NtryDtls></Ntry>"
        )
    opening = 10**12
    closing = opening + total

    def bal(code, amount):
        return (
            f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>"
            f'<Amt Ccy="EUR">{amount / 100:.2f}</Amt>'
            f"<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{day}</Dt></Dt></Bal>"
        )

    head = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>'
        "<GrpHdr><MsgId>BENCH</MsgId><CreDtTm>2026-12-02T18:00:00</CreDtTm></GrpHdr>"
        f"<Stmt><Id>BENCH-{time.time_ns()}</Id><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id>"
        f"<Ccy>EUR</Ccy></Acct>{bal('OPBD', opening)}{bal('CLBD', closing)}"
    )
    return (head + "".join(parts) + "</Stmt></BkToCstmrStmt></Document>").encode(), len(parts)


class _RssSampler(threading.Thread):
    """The process's current RSS every 50 ms, to show whether memory grows as lines stream."""

    def __init__(self):
        super().__init__(daemon=True)
        self.samples: list[float] = []
        self.done = threading.Event()

    def run(self):
        page = os.sysconf("SC_PAGE_SIZE")
        while not self.done.wait(0.05):
            with open("/proc/self/statm") as statm:
                self.samples.append(int(statm.read().split()[1]) * page / 2**20)

    def stop(self):
        self.done.set()
        self.join()

    def tenths(self) -> list[float]:
        """RSS (MiB) at the start and at each tenth of the import's duration."""
        if not self.samples:
            return []
        last = len(self.samples) - 1
        return [round(self.samples[last * tenth // 10], 1) for tenth in range(11)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--items-per-batch", type=int, default=100)
    parser.add_argument("--tracemalloc", action="store_true", help="peak Python memory (slower)")
    parser.add_argument(
        "--payouts",
        choices=["real", "noop"],
        default="real",
        help="noop replaces payouts' item-results call to measure reconciliation alone",
    )
    args = parser.parse_args()
    _setup(os.environ.get("DATABASE_URL"))

    from django.contrib.auth import get_user_model
    from django.db import connection

    import payouts.services
    import reconciliation.services as services
    from reconciliation.statements import parse_statement

    day = dt.date(2026, 12, 2)
    started = time.perf_counter()
    batches, items = _items(args.lines, args.items_per_batch, day)
    setup_s = time.perf_counter() - started
    data, entries = _camt(items, {}, day)
    user = get_user_model().objects.create(username="bench")

    # Time spent inside payouts' item-results call, reported apart from reconciliation's own.
    payouts_time = [0.0]
    real = services.payout_item_results_record

    def timed(**kwargs):
        t0 = time.perf_counter()
        try:
            return [] if args.payouts == "noop" else real(**kwargs)
        finally:
            payouts_time[0] += time.perf_counter() - t0

    services.payout_item_results_record = timed

    t0, c0 = time.perf_counter(), time.process_time()
    parsed = parse_statement(data)
    parse_s, parse_cpu = time.perf_counter() - t0, time.process_time() - c0
    del parsed

    queries = [0]

    def count(execute, sql, params, many, context):
        queries[0] += 1
        return execute(sql, params, many, context)

    if args.tracemalloc:
        tracemalloc.start()
    sampler = _RssSampler()
    sampler.start()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0, c0 = time.perf_counter(), time.process_time()
    with connection.execute_wrapper(count):
        result = services.statement_import(data=data, actor=user)
    import_s, import_cpu = time.perf_counter() - t0, time.process_time() - c0
    sampler.stop()
    peak_py = tracemalloc.get_traced_memory()[1] if args.tracemalloc else None
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    s = result.statement
    print(
        json.dumps(
            {
                "database": connection.vendor,
                "items": len(items),
                "lines": s.line_count,
                "file_mib": round(len(data) / 2**20, 1),
                "matched": s.matched_count,
                "exceptions": s.exception_count,
                "setup_s": round(setup_s, 1),
                "parse_only_s": round(parse_s, 2),
                "parse_only_cpu_s": round(parse_cpu, 2),
                "import_total_cpu_s": round(import_cpu, 2),
                "load_average_1m": os.getloadavg()[0],
                "import_total_s": round(import_s, 2),
                "payouts_results_s": round(payouts_time[0], 2),
                "reconciliation_own_s": round(import_s - payouts_time[0], 2),
                "queries": queries[0],
                "peak_python_mib": round(peak_py / 2**20, 1) if peak_py else None,
                "peak_rss_mib_before_import": round(rss_before / 1024, 1),
                "peak_rss_mib_after_import": round(rss_after / 1024, 1),
                "rss_mib_at_tenths_of_import": sampler.tenths(),
                "payouts_mode": args.payouts,
                "payouts_stub": hasattr(payouts.services, "ItemResult")
                and "interface stub" in Path(payouts.services.__file__).read_text(),
            }
        )
    )
    if os.environ.get("DATABASE_URL", "").endswith("_bench"):
        connection.close()


if __name__ == "__main__":
    main()
