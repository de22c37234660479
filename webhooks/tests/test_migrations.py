"""Data migrations of the webhooks app, run forwards and backwards on rows written in the old shape."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("webhooks", "0002_alter_webhookdelivery_status")]
AFTER = [("webhooks", "0003_cancelled_deliveries")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_deliveries_an_admin_cancelled_become_cancelled_and_back():
    apps = migrate(BEFORE)
    endpoint = apps.get_model("webhooks", "WebhookEndpoint").objects.create(
        name="CRM", url="https://crm.example.org/in", events=["survey.answered"]
    )
    Delivery = apps.get_model("webhooks", "WebhookDelivery")
    cancelled, gone, queued = (
        Delivery.objects.create(endpoint=endpoint, event="survey.answered", status=status, last_error=error)
        for status, error in [("failed", "Cancelled by an admin."), ("failed", "HTTP 410 Gone"), ("queued", "")]
    )

    try:
        migrate(AFTER)
        assert dict(Delivery.objects.values_list("pk", "status")) == {
            cancelled.pk: "cancelled",
            gone.pk: "failed",  # a real failure stays failed
            queued.pk: "queued",
        }

        migrate(BEFORE)
        assert set(Delivery.objects.values_list("pk", "status", "last_error")) == {
            (cancelled.pk, "failed", "Cancelled by an admin."),
            (gone.pk, "failed", "HTTP 410 Gone"),
            (queued.pk, "queued", ""),
        }
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
