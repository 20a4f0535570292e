from django.apps import AppConfig


class IdempotencyConfig(AppConfig):
    name = "payflow.idempotency"
    label = "idempotency"
    verbose_name = "Idempotency keys"
