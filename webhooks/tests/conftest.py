import pytest

from webhooks.events import webhook_events
from webhooks.models import WebhookEndpoint

from .receiver import run_receiver


@pytest.fixture
def receiver():
    with run_receiver() as state:
        yield state


@pytest.fixture
def endpoint(db, receiver) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(name="CRM", url=receiver.url, events=list(webhook_events.keys()))
