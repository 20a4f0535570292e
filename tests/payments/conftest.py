import pytest

from tests.payments.factories import make_payment


@pytest.fixture
def payment_factory(operator):
    def make(status="draft", **overrides):
        return make_payment(user=operator, status=status, **overrides)

    return make
