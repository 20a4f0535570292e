import importlib
import random

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from payflow.accounts.roles import Role, assign_role

DEFAULT_DEMO_PASSWORD = "payflow-demo"
DEMO_USERS = {"admin": Role.ADMIN, "operator": Role.OPERATOR, "viewer": Role.VIEWER}
# Each app that has demo data offers `<app>.demo.seed_demo_data(*, users, rng, stdout)`.
# reconciliation comes after payouts: its demo statements report the items in flight.
DEMO_DATA_APPS = ["payments", "payouts", "reconciliation", "transactions"]


class Command(BaseCommand):
    help = "Create the demo users admin, operator and viewer, and each app's demo data."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=7, help="Random seed for repeatable data.")
        parser.add_argument(
            "--users-only", action="store_true", help="Create the users, no demo data."
        )

    def handle(self, *args, seed, users_only, **options):
        password = settings.PAYFLOW_DEMO_PASSWORD
        if not password:
            if not settings.DEBUG:
                raise CommandError(
                    "PAYFLOW_DEMO_PASSWORD: refusing the default demo password with DEBUG off; "
                    "set PAYFLOW_DEMO_PASSWORD."
                )
            password = DEFAULT_DEMO_PASSWORD
        with transaction.atomic():
            users = {
                name: self._demo_user(name, role, password) for name, role in DEMO_USERS.items()
            }
        self.stdout.write(f"Users: {', '.join(users)} (password from PAYFLOW_DEMO_PASSWORD).")
        if users_only:
            return
        rng = random.Random(seed)
        for app in DEMO_DATA_APPS:
            try:
                module = importlib.import_module(f"{app}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{app}.demo":
                    raise
                continue
            module.seed_demo_data(users=users, rng=rng, stdout=self.stdout)

    def _demo_user(self, username: str, role: Role, password: str):
        user, _ = get_user_model().objects.get_or_create(
            username=username, defaults={"email": f"{username}@payflow.example"}
        )
        user.set_password(password)
        user.is_active = True
        user.save()
        assign_role(user, role)
        return user
