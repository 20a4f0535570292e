"""Search and export at scale on PostgreSQL: results in docs/benchmarks.md.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/payflow_bench .venv/bin/python bench/search.py

Seeds (once; reruns reuse the rows) 1,000,000 transactions, 100,000 payments and 2,000 payout
batches with 20,000 items by SQL (generate_series), migrates (which creates the pg_trgm
indexes), VACUUM ANALYZEs, then:

- search: each kind of query the search box takes, ``--repeat`` times, through
  ``search.engine.search_everything`` (what the API and the page call). Server time (median,
  p95, max) and the number of SQL queries per search (bounded: one or two per kind and
  condition, each with a LIMIT).
- export: the transactions CSV for every row (1,000,000), streamed exactly as the response
  does (``transaction_export`` -> ``csv_lines``) into a byte counter, in a child process so its
  peak RSS is the export's own: rows/s, bytes, and peak RSS over the start RSS. A second run
  over 100,000 rows shows memory does not grow with the row count.

Never run against a database that holds real data: it inserts rows.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "payflow.settings")

TRANSACTIONS = 1_000_000
PAYMENTS = 100_000
BATCHES = 2_000
ITEMS_PER_BATCH = 10


def setup():
    import django

    django.setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("bench/search.py needs PostgreSQL: set DATABASE_URL=postgres://...")
    return connection


def seed(connection) -> dict:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM transactions_transaction")
        have = cur.fetchone()[0]
        if have < TRANSACTIONS:
            cur.execute(
                """
                INSERT INTO transactions_transaction
                  (public_id, kind, amount, currency, merchant, status, payment_ref, payout_ref,
                   created_at)
                SELECT 'txn_' || substr(md5('t' || i), 1, 20),
                       (ARRAY['authorization','capture','refund','payout','fee'])[1 + i %% 5],
                       100 + (i::bigint * 7919) %% 500000,
                       (ARRAY['USD','EUR','GBP','JPY','KWD'])[1 + i %% 5],
                       (ARRAY['Harbour Books','Nordwind GmbH','Acme Supplies','Tokyo Tools',
                              'Gulf Freight','Lindqvist Konsult','Blue Fern Cafe'])[1 + i %% 7]
                         || ' ' || (i %% 997),
                       (ARRAY['authorized','captured','failed','declined','refunded'])[1 + i %% 5],
                       '', '', now() - (i || ' seconds')::interval
                FROM generate_series(%s, %s) AS i
                """,
                [have + 1, TRANSACTIONS],
            )
        cur.execute("SELECT count(*) FROM payments_payment")
        have = cur.fetchone()[0]
        if have < PAYMENTS:
            cur.execute(
                """
                INSERT INTO payments_payment
                  (public_id, amount, currency, beneficiary_name, beneficiary_account,
                   description, method, status, failure_code, failure_message, created_at,
                   updated_at, status_changed_at, version)
                SELECT 'pay_' || substr(md5('p' || i), 1, 20),
                       100 + (i::bigint * 104729) %% 900000,
                       (ARRAY['USD','EUR','GBP','JPY','KWD'])[1 + i %% 5],
                       (ARRAY['Nordwind GmbH','Acme Supplies Ltd','Tokyo Tools KK',
                              'Gulf Freight','Harbour Books'])[1 + i %% 5] || ' ' || (i %% 4999),
                       'DE89' || lpad((i * 7)::text, 18, '0'),
                       'Invoice ' || i, (ARRAY['card','ach','sepa','wire'])[1 + i %% 4],
                       (ARRAY['draft','submitted','processing','succeeded','failed'])[1 + i %% 5],
                       CASE WHEN i %% 5 = 4 THEN 'card_declined' ELSE '' END, '',
                       now() - (i || ' minutes')::interval, now(), now(), 1
                FROM generate_series(%s, %s) AS i
                """,
                [have + 1, PAYMENTS],
            )
        cur.execute("SELECT count(*) FROM payouts_payoutbatch")
        have = cur.fetchone()[0]
        if have < BATCHES:
            cur.execute(
                """
                INSERT INTO payouts_payoutbatch
                  (public_id, name, currency, rail, business_days, calendar, bank_time_zone,
                   cutoff, submitted_at, expected_settlement_date, settlement_deadline, status,
                   status_changed_at, reconciled_by_name, created_at)
                SELECT 'po_' || substr(md5('b' || i), 1, 20), 'Payroll run ' || i, 'USD',
                       'ach', 2, 'us', 'America/New_York', '17:00',
                       now() - (i || ' hours')::interval,
                       (now() - (i || ' hours')::interval)::date + 2,
                       now() - (i || ' hours')::interval + interval '3 days',
                       'settled', now(), '', now()
                FROM generate_series(%s, %s) AS i
                """,
                [have + 1, BATCHES],
            )
            cur.execute(
                """
                INSERT INTO payouts_payoutitem
                  (public_id, batch_id, recipient_name, account_reference, amount, status,
                   failure_code, failure_message, bank_reference, updated_at)
                SELECT 'poi_' || substr(md5('i' || b.id || '-' || n), 1, 20), b.id,
                       'Recipient ' || b.id || '-' || n,
                       '••••' || lpad(((b.id * 10 + n) %% 10000)::text, 4, '0'),
                       1000 + n * 37, 'settled', '', '',
                       'FEDWIRE-' || b.id || '-' || n, now()
                FROM payouts_payoutbatch b, generate_series(1, %s) AS n
                WHERE NOT EXISTS (SELECT 1 FROM payouts_payoutitem x WHERE x.batch_id = b.id)
                """,
                [ITEMS_PER_BATCH],
            )
        # VACUUM merges GIN pending lists left by the bulk insert (as autovacuum would).
        cur.execute("VACUUM ANALYZE")
    return {"seed_seconds": round(time.perf_counter() - started, 1)}


def queries(connection) -> dict[str, str]:
    with connection.cursor() as cur:
        cur.execute("SELECT public_id FROM payments_payment ORDER BY id DESC LIMIT 1 OFFSET 5000")
        payment_id = cur.fetchone()[0]
        cur.execute("SELECT public_id FROM transactions_transaction WHERE id = 777777")
        txn_id = cur.fetchone()[0]
        cur.execute("SELECT bank_reference FROM payouts_payoutitem ORDER BY id LIMIT 1 OFFSET 999")
        reference = cur.fetchone()[0]
    return {
        "exact payment id": payment_id,
        "payment id prefix (9 chars)": payment_id[:9],
        "transaction id": txn_id,
        "name word": "nordwind",
        "name and number": "Harbour Books 42",
        "amount 80.70": "80.70",
        "amount 1,250": "1,250",
        "amount 1250.00 EUR": "1250.00 EUR",
        "account last 4": "0070",
        "bank reference": reference,
        "nothing matches": "zzqqxxyy",
    }


def bench_search(connection, repeat: int) -> dict:
    from django.test.utils import CaptureQueriesContext

    from search.engine import search_everything

    results = {}
    for label, q in queries(connection).items():
        search_everything(q)  # warm the cache and the plan
        times, counts, found = [], [], 0
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                answer = search_everything(q)
                times.append((time.perf_counter() - started) * 1000)
            counts.append(len(captured.captured_queries))
            found = answer.count
        times.sort()
        results[label] = {
            "q": q,
            "results": found,
            "median_ms": round(statistics.median(times), 1),
            "p95_ms": round(times[int(len(times) * 0.95) - 1], 1),
            "max_ms": round(times[-1], 1),
            "queries": max(counts),
        }
    return results


def bench_export(limit: int | None) -> dict:
    """In this (child) process: stream the CSV into a counter; rows/s and peak RSS."""
    from django.http import QueryDict

    from payflow.export import csv_lines
    from transactions import selectors

    start_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    query = selectors.parse_transaction_query(QueryDict("sort=created_at"))
    total, rows = selectors.transaction_export(query=query)
    if limit is not None:
        rows = (row for index, row in zip(range(limit), rows, strict=False))
        total = min(total, limit)
    started = time.perf_counter()
    written = count = 0
    first_byte_ms = None
    for line in csv_lines(selectors.EXPORT_HEADER, rows):
        if first_byte_ms is None:
            first_byte_ms = (time.perf_counter() - started) * 1000
        written += len(line.encode())
        count += 1
    seconds = time.perf_counter() - started
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "rows": count - 1,
        "expected_rows": total,
        "seconds": round(seconds, 1),
        "rows_per_second": round((count - 1) / seconds),
        "megabytes": round(written / 1e6, 1),
        "first_line_ms": round(first_byte_ms, 1),
        "start_rss_mb": round(start_rss / 1024, 1),
        "peak_rss_mb": round(peak_rss / 1024, 1),
        "growth_mb": round((peak_rss - start_rss) / 1024, 1),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--export-child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    connection = setup()
    if args.export_child is not None:
        limit = args.export_child or None
        print(json.dumps(bench_export(limit)))
        return
    report = {"seed": seed(connection)}
    with connection.cursor() as cur:
        cur.execute(
            "SELECT (SELECT count(*) FROM transactions_transaction),"
            " (SELECT count(*) FROM payments_payment), (SELECT count(*) FROM payouts_payoutitem)"
        )
        report["rows"] = dict(
            zip(["transactions", "payments", "payout_items"], cur.fetchone(), strict=True)
        )
    report["search"] = bench_search(connection, args.repeat)
    report["export"] = {}
    for limit in (100_000, 0):
        done = subprocess.run(
            [sys.executable, __file__, "--export-child", str(limit)],
            capture_output=True,
            text=True,
            check=True,
            env=os.environ,
        )
        report["export"]["all" if not limit else str(limit)] = json.loads(
            done.stdout.splitlines()[-1]
        )
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
