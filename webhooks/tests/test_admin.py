"""The webhooks admin: endpoints with a read-only secret and events as checkboxes; deliveries with retry / cancel."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from webhooks.events import webhook_events
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services import webhook_event_emit

pytestmark = pytest.mark.django_db
Status = WebhookDelivery.Status


def test_an_admin_adds_an_endpoint_with_checked_events_and_then_sees_its_secret(client, admin_user):
    client.force_login(admin_user)
    add = reverse("admin:webhooks_webhookendpoint_add")
    assert 'type="checkbox" name="events" value="followup.created"' in client.get(add).content.decode()

    response = client.post(
        add, {"name": "CRM", "url": "https://crm.example.org/in", "events": ["followup.created"], "active": "on"}
    )

    assert response.status_code == 302
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["followup.created"] and len(endpoint.secret) >= 43
    page = client.get(reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk])).content.decode()
    assert endpoint.secret in page
    assert 'name="secret"' not in page  # shown, not editable


def test_a_non_http_url_or_no_event_is_refused(client, admin_user):
    client.force_login(admin_user)

    response = client.post(
        reverse("admin:webhooks_webhookendpoint_add"), {"name": "X", "url": "ftp://x.example.org/", "events": []}
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"url", "events"}
    assert not WebhookEndpoint.objects.exists()


def test_deliveries_are_searched_by_event_id_and_retried_or_cancelled_through_the_services(client, admin_user):
    WebhookEndpoint.objects.create(name="CRM", url="https://crm.example.org/in", events=list(webhook_events.keys()))
    webhook_event_emit(event="survey.answered", payload={"csat": 1})
    webhook_event_emit(event="followup.created", payload={"followup_id": 1})
    failed, queued = WebhookDelivery.objects.order_by("id")
    WebhookDelivery.objects.filter(pk=failed.pk).update(status=Status.FAILED, last_error="HTTP 410 Gone", attempts=1)
    client.force_login(admin_user)
    changelist = reverse("admin:webhooks_webhookdelivery_changelist")

    found = client.get(changelist, {"q": str(failed.event_id)})
    assert list(found.context["cl"].queryset) == [WebhookDelivery.objects.get(pk=failed.pk)]
    assert "HTTP 410 Gone" in found.content.decode()
    assert client.get(changelist, {"q": failed.event_id.hex[:8]}).context["cl"].result_count == 1
    assert client.get(changelist, {"q": "not a uuid"}).context["cl"].result_count == 0
    assert client.get(changelist, {"status__exact": "failed", "event__exact": "survey.answered"}).status_code == 200

    client.post(changelist, {"action": "retry", "_selected_action": [failed.pk]})
    client.post(changelist, {"action": "cancel", "_selected_action": [queued.pk]})

    failed.refresh_from_db()
    queued.refresh_from_db()
    assert (failed.status, failed.attempts, failed.last_error) == (Status.QUEUED, 0, "")
    assert queued.status == Status.CANCELLED
    assert client.get(changelist, {"status__exact": "cancelled"}).context["cl"].result_count == 1


def test_the_events_offered_are_the_registered_ones_and_a_delivery_of_an_unregistered_event_is_named(
    client, admin_user
):
    # given a delivery of an event whose app was removed
    endpoint = WebhookEndpoint.objects.create(name="CRM", url="https://crm.example.org/in", events=["survey.answered"])
    gone = WebhookDelivery.objects.create(endpoint=endpoint, event="gone_app.happened", payload={})
    client.force_login(admin_user)

    # when an admin opens the pages
    add = client.get(reverse("admin:webhooks_webhookendpoint_add")).content.decode()
    changelist = client.get(reverse("admin:webhooks_webhookdelivery_changelist")).content.decode()
    detail = client.get(reverse("admin:webhooks_webhookdelivery_change", args=[gone.pk])).content.decode()

    # then the checkboxes and the filter are the registry's, and the unknown event is named as such
    assert add.count('name="events"') == len(webhook_events.keys())
    for event in webhook_events:
        assert f'value="{event.key}"' in add
        assert f"?event={event.key}" in changelist
    assert "unknown webhook event (gone_app.happened)" in changelist
    assert "unknown webhook event (gone_app.happened)" in detail


def test_an_endpoint_may_subscribe_only_to_registered_events():
    endpoint = WebhookEndpoint(name="CRM", url="https://crm.example.org/in", events=["gone_app.happened"])

    with pytest.raises(ValidationError, match="Unknown event"):
        endpoint.full_clean()
