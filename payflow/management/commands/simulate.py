"""``manage.py simulate transactions|payments|payouts|all``: realistic traffic for demos and load.

transactions: paced outbox traffic (``--rate``/``--duration``/``--count``, bursts, chaos Event
Burst); payments and payouts: the other apps' own simulations (``--count``, ``--batches``).
"""

import signal
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import InterfaceError, OperationalError
from tqdm import tqdm

from chaos.config import get_chaos_settings
from transactions.services import TrafficPlan, simulate_transactions

TARGETS = ("transactions", "payments", "payouts", "all")


class ChaosBurst:
    """The chaos Event Burst as a multiplier: on for ``stream_burst_seconds`` once switched on."""

    def __init__(self):
        self.read_at = 0.0
        self.seen: tuple | None = None
        self.until = 0.0
        self.multiplier = 1

    def __call__(self) -> int:
        now = time.monotonic()
        if now - self.read_at >= 1.0:
            self.read_at = now
            try:
                chaos = get_chaos_settings()
            except (OperationalError, InterfaceError):
                return self.multiplier if now < self.until else 1  # database down: as before
            key = (chaos.stream_burst_multiplier, chaos.stream_burst_seconds, chaos.preset)
            if key != self.seen:
                self.seen = key
                self.multiplier = max(1, chaos.stream_burst_multiplier)
                seconds = chaos.stream_burst_seconds
                self.until = now + seconds if seconds else float("inf")
        return self.multiplier if now < self.until else 1


class Command(BaseCommand):
    help = "Simulate realistic traffic: transactions, payments, payouts, or all of them."

    def add_arguments(self, parser):
        parser.add_argument("target", choices=TARGETS)
        parser.add_argument("--rate", type=float, default=5.0, help="events/s (0: flat out)")
        parser.add_argument(
            "--duration", type=float, default=30.0, help="seconds; 0 runs until stopped"
        )
        parser.add_argument("--count", type=int, help="stop after this many events / payments")
        parser.add_argument("--burst-every", type=float, default=0.0, help="seconds between bursts")
        parser.add_argument("--burst-size", type=int, default=0, help="extra events per burst")
        parser.add_argument("--failure-rate", type=float, default=0.05, help="0..1")
        parser.add_argument("--seed", type=int, help="repeatable runs")
        parser.add_argument("--batches", type=int, default=5, help="payouts: batches to create")
        parser.add_argument("--items-per-batch", type=int, default=8, help="payouts: items each")
        parser.add_argument("--quiet", action="store_true", help="no progress bar or summary")
        parser.add_argument(
            "--statements-dir",
            default="",
            help="payouts: where to write the bank statements of the simulated batches "
            "(default artifacts/demo-statements)",
        )
        parser.add_argument(
            "--webhook-url",
            default="",
            help="payments: where the simulated processor POSTs its signed webhooks "
            "(default PROCESSOR_WEBHOOK_URL, else http://127.0.0.1:8000/webhooks/processor)",
        )
        parser.add_argument("--webhook-delay", type=float, default=0.0, help="payments: s/webhook")
        parser.add_argument(
            "--duplicate-rate", type=float, default=0.0, help="payments: share sent twice (0..1)"
        )
        parser.add_argument(
            "--reorder", action="store_true", help="payments: shuffle each payment's webhooks"
        )

    def handle(self, *args, target, **options):
        self.check_options(options)
        quiet = options["quiet"]
        if target in ("payments", "all"):
            self.run_payments(options, quiet)
        if target in ("payouts", "all"):
            self.run_payouts(options, quiet)
        if target in ("transactions", "all"):
            self.run_transactions(options, quiet)

    def check_options(self, options) -> None:
        checks = [
            ("--rate", options["rate"] >= 0 and options["rate"] != float("inf"), "0 or more"),
            ("--duration", options["duration"] >= 0, "0 or more seconds"),
            ("--count", options["count"] is None or options["count"] >= 1, "at least 1"),
            ("--burst-every", options["burst_every"] >= 0, "0 or more seconds"),
            ("--burst-size", options["burst_size"] >= 0, "0 or more"),
            ("--failure-rate", 0 <= options["failure_rate"] <= 1, "between 0 and 1"),
            ("--batches", options["batches"] >= 1, "at least 1"),
            ("--items-per-batch", options["items_per_batch"] >= 1, "at least 1"),
        ]
        for name, ok, expected in checks:
            if not ok:
                raise CommandError(f"{name}: must be {expected}.")
        if options["rate"] == 0 and options["count"] is None:
            raise CommandError("--rate: 0 (flat out) needs --count to know when to stop.")

    def progress_bar(self, *, quiet: bool, total, unit: str):
        return tqdm(total=total, unit=unit, disable=quiet, file=self.stderr._out, leave=True)

    def run_transactions(self, options, quiet: bool) -> None:
        plan = TrafficPlan(
            rate=options["rate"],
            duration=options["duration"] if options["count"] is None else 0,
            count=options["count"],
            burst_every=options["burst_every"],
            burst_size=options["burst_size"],
            failure_rate=options["failure_rate"],
        )
        stop = {"now": False}
        signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
        total = plan.count or (round(plan.rate * plan.duration) if plan.duration else None)
        with self.progress_bar(quiet=quiet, total=total, unit="event") as bar:
            try:
                written = simulate_transactions(
                    plan=plan,
                    seed=options["seed"],
                    progress=bar.update,
                    burst_multiplier=ChaosBurst(),
                    should_stop=lambda: stop["now"],
                )
            except KeyboardInterrupt:
                written = bar.n
        if not quiet:
            self.stdout.write(f"Wrote {written} transaction events.")

    def run_payments(self, options, quiet: bool) -> None:
        try:
            from django.conf import settings

            from payments.processor import DeliveryPlan, HttpTransport
            from payments.simulation import simulate_payments
        except ImportError as exc:
            message = f"payments: the payments simulation is not available ({exc})."
            raise CommandError(message) from exc
        url = (
            options["webhook_url"]
            or settings.PROCESSOR_WEBHOOK_URL
            or "http://127.0.0.1:8000/webhooks/processor"
        )
        plan = DeliveryPlan(
            delay=options["webhook_delay"],
            duplicate_rate=options["duplicate_rate"],
            reorder=options["reorder"],
            seed=options["seed"],
        )
        try:
            plan.check()
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        transport = HttpTransport(url)
        # Demo traffic (serve): --duration 0 without --count plays one payment per 1/--rate s.
        forever = options["duration"] == 0 and options["count"] is None and options["rate"] > 0
        count = options["count"] or 20
        stop = {"now": False}
        signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
        with self.progress_bar(
            quiet=quiet, total=None if forever else count, unit="payment"
        ) as bar:
            while True:
                result = simulate_payments(
                    count=1 if forever else count,
                    seed=None if forever else options["seed"],
                    failure_rate=options["failure_rate"],
                    actor=None,
                    progress=bar.update,
                    transport=transport,
                    plan=plan,
                )
                if not forever or stop["now"]:
                    break
                time.sleep(1 / options["rate"])
        refused = [status for status in transport.statuses if status != 200]
        if refused and not quiet:
            self.stderr.write(
                f"payments: {len(refused)} of {len(transport.statuses)} webhooks to {url} were "
                f"not accepted (statuses {sorted(set(refused))}; 0 = no answer). Is the server "
                "running with the same PROCESSOR_WEBHOOK_SECRETS?"
            )
        if not quiet:
            self.stdout.write(f"Payments simulated: {result}")

    def run_payouts(self, options, quiet: bool) -> None:
        try:
            from payouts.simulation import simulate_payouts
        except ImportError as exc:
            message = f"payouts: the payouts simulation is not available ({exc})."
            raise CommandError(message) from exc
        with self.progress_bar(quiet=quiet, total=options["batches"], unit="batch") as bar:
            result = simulate_payouts(
                batches=options["batches"],
                items_per_batch=options["items_per_batch"],
                failure_rate=options["failure_rate"],
                seed=options["seed"],
                actor=None,
                progress=bar.update,
            )
        batch_ids = set(result.pop("batch_ids"))
        if not quiet:
            self.stdout.write(f"Payouts simulated: {result}")
        self.write_statements(options, batch_ids, quiet)

    def write_statements(self, options, batch_ids: set[str], quiet: bool) -> None:
        """The bank's statements for the batches just simulated, to upload for reconciliation."""
        from reconciliation.demo import write_demo_statements

        paths = write_demo_statements(
            directory=options["statements_dir"] or None, batch_ids=batch_ids
        )
        if quiet:
            return
        if not paths:
            self.stdout.write("Bank statements: no items in flight, none written.")
            return
        self.stdout.write(
            f"Bank statements ({len(paths)} files, camt.053 and MT940 of the same statements) "
            f"in {paths[0].parent}: upload one at /reconciliation or POST it to "
            "/api/v1/bank-statements."
        )
