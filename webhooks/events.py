"""Webhook events: a registry that each app emitting events fills in its `AppConfig.ready()`.

`WebhookDelivery.event` and the endpoints' `events` are plain strings validated against it; webhooks never names the
events of the apps above it:

    webhook_event_register(app="surveys", key="<object>.<verb>", label="… — what happened")

A delivery whose event no app registers any more reads "unknown webhook event (<key>)"; it is still sent (its
payload was made when the event happened), and an endpoint may keep such a key until an admin edits it.
"""

from __future__ import annotations

from dataclasses import dataclass

from common.registry import Registry


@dataclass(frozen=True)
class WebhookEvent:
    key: str
    label: str
    app_label: str


webhook_events: Registry[WebhookEvent] = Registry("webhook event")


def webhook_event_register(*, app: str, key: str, label: str) -> None:
    """Declare a webhook event (from the emitting app's ready(); `app` is its label)."""
    webhook_events.add(WebhookEvent(key=str(key), label=label, app_label=app))
