from django.apps import AppConfig


class PayflowConfig(AppConfig):
    name = "payflow"
    verbose_name = "PayFlow"
