import pytest


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run the after-commit publication at once (the test's transaction never commits)."""

    def run(callable_, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return callable_(*args, **kwargs)

    return run


@pytest.fixture
def committing(django_capture_on_commit_callbacks):
    """A block whose after-commit callbacks (the publication) run, as in a real request."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def admin_client(client, admin, password):
    client.login(username=admin.username, password=password)
    return client


@pytest.fixture
def viewer_client(client, viewer, password):
    client.login(username=viewer.username, password=password)
    return client


@pytest.fixture
def operator_client(client, operator, password):
    client.login(username=operator.username, password=password)
    return client
