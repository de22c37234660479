import pytest

from webhooks.models import Event, WebhookEndpoint

from .receiver import run_receiver


@pytest.fixture
def receiver():
    with run_receiver() as state:
        yield state


@pytest.fixture
def endpoint(db, receiver) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(name="CRM", url=receiver.url, events=list(Event.values))
