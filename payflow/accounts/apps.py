from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "payflow.accounts"
    label = "accounts"
    verbose_name = "Accounts and API tokens"
