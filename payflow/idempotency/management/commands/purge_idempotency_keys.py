"""manage.py purge_idempotency_keys --older-than 24h: forget keys past their keep time."""

import re
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from payflow.idempotency.services import idempotency_keys_purge

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(text: str) -> timedelta:
    """'24h', '90m', '2d', '86400s' -> timedelta; ValueError naming --older-than otherwise."""
    match = _DURATION.match(text or "")
    if not match:
        raise ValueError(
            f"--older-than: {text!r} is not a duration; use a number and a unit, like 24h, 2d, "
            "90m or 86400s."
        )
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


class Command(BaseCommand):
    help = "Delete idempotency keys older than --older-than (at least 24h)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than", default="24h", help="Age like 24h, 2d, 90m (default 24h; min 24h)."
        )
        parser.add_argument("--dry-run", action="store_true", help="Count, delete nothing.")

    def handle(self, *args, older_than, dry_run, **options):
        try:
            age = parse_duration(older_than)
            count = idempotency_keys_purge(older_than=age, dry_run=dry_run)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        verb = "Would delete" if dry_run else "Deleted"
        self.stdout.write(f"{verb} {count} idempotency key(s) older than {older_than.strip()}.")
