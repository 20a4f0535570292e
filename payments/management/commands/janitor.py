"""``manage.py janitor``: one pass over stuck payments, asking the processor about each."""

from django.core.management.base import BaseCommand, CommandError

from payments.janitor import janitor_run


class Command(BaseCommand):
    help = (
        "Ask the processor about payments stuck in processing or requires_action past "
        "PAYMENT_STUCK_AFTER_SECONDS and apply its final answers (actor 'janitor')."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--stuck-after",
            type=int,
            default=None,
            help="seconds in the state before a payment counts as stuck "
            "(default PAYMENT_STUCK_AFTER_SECONDS)",
        )

    def handle(self, *args, stuck_after, **options):
        if stuck_after is not None and stuck_after < 0:
            raise CommandError("--stuck-after: must be 0 or more seconds.")
        run = janitor_run(stuck_after_seconds=stuck_after)
        if run is None:
            self.stdout.write("Another janitor is running; nothing done.")
            return
        self.stdout.write(
            f"Janitor: examined {run.examined}, resolved {run.resolved}, "
            f"unresolved {run.unresolved}, errors {run.errors}."
        )
        for note in run.notes:
            if note["result"] != "resolved":
                self.stdout.write(f"  {note['payment_id']}: {note['result']} — {note['reason']}")
