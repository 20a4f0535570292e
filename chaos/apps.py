from django.apps import AppConfig


class ChaosConfig(AppConfig):
    name = "chaos"

    def ready(self):
        from chaos import checks  # noqa: F401 - registers the deploy check
