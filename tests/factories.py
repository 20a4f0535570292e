"""factory-boy factories shared by the suite; each app adds its own below."""

import factory
from django.contrib.auth import get_user_model

from payflow.accounts.roles import Role, assign_role

TEST_PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@payflow.example")
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def role(user, create, extracted, **kwargs):
        if create:
            user.save()
            if extracted is not None:
                assign_role(user, extracted)


def viewer_user(**kwargs):
    return UserFactory(role=Role.VIEWER, **kwargs)


def operator_user(**kwargs):
    return UserFactory(role=Role.OPERATOR, **kwargs)


def admin_user(**kwargs):
    return UserFactory(role=Role.ADMIN, **kwargs)
