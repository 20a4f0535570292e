"""Indexes that make search fast on PostgreSQL: pg_trgm GIN indexes for substring and suffix
matches (names, references, account endings) and btree indexes for exact amounts. Id prefixes
need none: Django already gives every unique CharField a ``varchar_pattern_ops`` index
(``…_like``), which serves ``LIKE 'pay_7Hx%'``.

They live here, not in the apps that own the tables, because they serve search alone. The
expressions match what Django's lookups send: ``icontains`` is ``UPPER(col::text) LIKE
UPPER(%s)``, ``startswith``/``endswith``/``iexact`` use ``col::text`` (and UPPER for iexact).
SQLite has no pg_trgm; there the migration does nothing and search scans, correctly.
"""

from django.db import migrations

# (name, table, expression, method)
INDEXES = [
    (
        "search_pay_name_trgm",
        "payments_payment",
        "UPPER(beneficiary_name::text) gin_trgm_ops",
        "gin",
    ),
    (
        "search_pay_account_trgm",
        "payments_payment",
        "(beneficiary_account::text) gin_trgm_ops",
        "gin",
    ),
    ("search_pay_amount", "payments_payment", "amount, currency", "btree"),
    ("search_batch_name_trgm", "payouts_payoutbatch", "UPPER(name::text) gin_trgm_ops", "gin"),
    (
        "search_item_name_trgm",
        "payouts_payoutitem",
        "UPPER(recipient_name::text) gin_trgm_ops",
        "gin",
    ),
    (
        "search_item_account_trgm",
        "payouts_payoutitem",
        "(account_reference::text) gin_trgm_ops",
        "gin",
    ),
    (
        "search_item_ref_trgm",
        "payouts_payoutitem",
        "UPPER(bank_reference::text) gin_trgm_ops",
        "gin",
    ),
    ("search_item_amount", "payouts_payoutitem", "amount", "btree"),
    (
        "search_rec_ref_upper",
        "payouts_payoutreconciliation",
        "UPPER(bank_reference::text)",
        "btree",
    ),
    (
        "search_txn_merchant_trgm",
        "transactions_transaction",
        "UPPER(merchant::text) gin_trgm_ops",
        "gin",
    ),
    ("search_txn_amount", "transactions_transaction", "amount, currency", "btree"),
]


def _expression(expr: str, method: str) -> str:
    return f"({expr})" if method == "btree" and "," not in expr and "(" in expr else expr


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, expr, method in INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING {method} "
            f"({_expression(expr, method)})"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, *_ in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0001_initial"),
        ("payouts", "0001_initial"),
        ("transactions", "0003_stream_notify_trigger"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
