import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import get_commands
from django.core.management.base import BaseCommand, CommandError

from payflow.servers import DEFAULT_SERVER, SERVE_CHOICES, server_command


class Command(BaseCommand):
    help = (
        "Serve PayFlow with daphne (HTTP + WebSocket; --server picks another ASGI server) and, "
        "unless --no-traffic, a demo traffic simulator so the live stream moves at once."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--traffic-rate",
            type=float,
            default=settings.PAYFLOW_DEMO_TRAFFIC_RATE,
            help="Demo transactions per second (0 turns demo traffic off).",
        )
        parser.add_argument("--no-traffic", action="store_true")
        parser.add_argument(
            "--server",
            choices=SERVE_CHOICES,
            default=DEFAULT_SERVER,
            help="ASGI server of this process (see docs/transactions.md, 'Server processes').",
        )

    def handle(self, *args, host, port, traffic_rate, no_traffic, server, **options):
        if not 0 < port < 65536:
            raise CommandError(f"--port: {port} is not a TCP port (1-65535).")
        if traffic_rate < 0:
            raise CommandError("--traffic-rate: must be 0 or more.")
        children = [subprocess.Popen(server_command(server, host=host, port=port))]
        if not no_traffic and traffic_rate > 0 and "simulate" in get_commands():
            children.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "manage.py",
                        "simulate",
                        "transactions",
                        "--rate",
                        str(traffic_rate),
                        "--duration",
                        "0",
                        "--quiet",
                    ]
                )
            )
        if not no_traffic and traffic_rate > 0 and "simulate" in get_commands():
            # Payments whose processor answers arrive as signed webhooks to this server.
            children.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "manage.py",
                        "simulate",
                        "payments",
                        "--rate",
                        str(traffic_rate / 25),
                        "--duration",
                        "0",
                        "--webhook-url",
                        f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
                        "/webhooks/processor",
                        "--webhook-delay",
                        "0.5",
                        "--duplicate-rate",
                        "0.1",
                        "--reorder",
                        "--quiet",
                    ]
                )
            )
        shown_host = "localhost" if host in {"127.0.0.1", "0.0.0.0"} else host
        self.stdout.write(f"PayFlow on http://{shown_host}:{port}/  (Ctrl+C stops)")
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            for child in children:
                if child.poll() is None:
                    child.terminate()
            for child in children:
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.kill()
        failed = [child.returncode for child in children if child.returncode not in (0, None, -15)]
        if failed:
            raise CommandError(f"A PayFlow process exited with status {failed[0]}.")
