from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from payflow.accounts.services import api_token_create


class Command(BaseCommand):
    help = "Create a bearer API token for USERNAME and print it once (only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="A label to tell tokens apart.")

    def handle(self, *args, username, name, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"username: no user named {username!r}.")
        if not user.is_active:
            raise CommandError(f"username: user {username!r} is inactive.")
        _, raw = api_token_create(user=user, name=name[:100])
        self.stdout.write(raw)
