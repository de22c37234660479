"""Writes of the webhooks app: emit an event, claim due deliveries, send a claimed one, retry or fail it.

Delivery guarantees (the outbox's pattern, DESIGN.md "One outbox for all email"):
- `webhook_event_emit` inserts one delivery per subscribed active endpoint in the caller's transaction: a delivery
  exists if and only if the change that caused the event committed. No HTTP request is made from a web request.
- The sweep claims due rows with a conditional UPDATE (status + time in the WHERE clause): one sweep gets a row.
- The send step swaps the sweep's claim token for its own with a second conditional UPDATE (and a fresh lease), so
  the same task delivered twice, or two workers at once, POST a row once. The row is marked only under that token.
- A worker that dies leaves the row `sending`; once its lease expires the sweep claims it again.
- Retries live in the row (attempts, next_attempt_at), not in Celery: 5xx, 429, timeouts and connection errors go
  back to `queued` with exponential backoff; other 4xx, redirects or too many attempts end in `failed`.
- Remaining duplicate window: a crash after the receiver answered 2xx and before the row is marked delivered (or a
  request that outlives the lease). The resend carries the same X-Helpdesk-Delivery id: receivers de-duplicate on it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.client import HTTPException
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .models import Event, WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)
Status = WebhookDelivery.Status
USER_AGENT = "helpdesk-webhooks/1"
ERROR_BODY_CHARS = 500


def lease() -> timedelta:
    return timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS)


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff after the n-th failed attempt: base, 2×base, 4×base … capped."""
    seconds = settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, settings.WEBHOOK_RETRY_MAX_SECONDS))


def sign(*, secret: str, timestamp: int, body: bytes) -> str:
    """The X-Helpdesk-Signature value: HMAC-SHA256 of "<timestamp>.<body>" keyed with the endpoint's secret."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


# --- emitting (inside the caller's transaction) ---------------------------------------------------------------------


class _PayloadEncoder(DjangoJSONEncoder):
    """Datetimes in full ISO 8601 (DjangoJSONEncoder cuts them to milliseconds); dates, UUIDs, decimals as it does."""

    def default(self, o: Any) -> Any:
        return o.isoformat() if isinstance(o, datetime) else super().default(o)


def webhook_event_emit(*, event: str, payload: dict[str, Any]) -> int:
    """Queue one delivery of `event` per active endpoint subscribed to it, in the caller's transaction.
    The payload is stored JSON-safe (datetimes as ISO 8601). Returns how many deliveries were queued."""
    if event not in Event.values:
        raise ValueError(f"Unknown webhook event {event!r}")
    endpoints = [e for e in WebhookEndpoint.objects.filter(active=True).only("pk", "events") if event in e.events]
    if not endpoints:
        return 0
    data = json.loads(json.dumps(payload, cls=_PayloadEncoder))
    now = timezone.now()
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(endpoint=endpoint, event=event, payload=data, created_at=now, next_attempt_at=now)
            for endpoint in endpoints
        ]
    )
    return len(endpoints)


# --- claiming (beat) ------------------------------------------------------------------------------------------------


def _claimable(now: datetime) -> Q:
    return Q(status=Status.QUEUED, next_attempt_at__lte=now) | Q(status=Status.SENDING, lease_until__lt=now)


def deliveries_claim_due(*, limit: int = 500, now: datetime | None = None) -> tuple[str, list[int]]:
    """Claim up to `limit` due deliveries (and ones whose lease expired) for one sweep. Returns (claim token, ids)."""
    now = now or timezone.now()
    token = uuid.uuid4().hex
    candidates = list(
        WebhookDelivery.objects.filter(_claimable(now))
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    if not candidates:
        return token, []
    # The WHERE clause is re-evaluated per row under its lock: a row another sweep claimed meanwhile is skipped.
    WebhookDelivery.objects.filter(_claimable(now), pk__in=candidates).update(
        status=Status.SENDING, claim_token=token, lease_until=now + lease()
    )
    claimed = WebhookDelivery.objects.filter(pk__in=candidates, claim_token=token)
    return token, list(claimed.order_by("id").values_list("pk", flat=True))


# --- sending (worker) -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    """The outcome of one POST: delivered, or a failure that is temporary (retry later) or permanent."""

    delivered: bool
    permanent: bool = False
    status: int | None = None
    error: str = ""


def request_body(delivery: WebhookDelivery) -> bytes:
    """The JSON body, the same bytes on every attempt of the delivery."""
    envelope = {
        "id": str(delivery.event_id),
        "event": delivery.event,
        "created_at": delivery.created_at.isoformat(),
        "data": delivery.payload,
    }
    return json.dumps(envelope, separators=(",", ":"), sort_keys=True).encode()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is answered as an error: urllib would turn the POST into a GET without a body."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def _error_text(exc: urllib.error.HTTPError) -> str:
    try:
        body = exc.read(ERROR_BODY_CHARS).decode("utf-8", "replace")
    except (OSError, HTTPException):
        body = ""
    return f"HTTP {exc.code} {exc.reason}" + (f": {body}" if body else "")


def post(*, url: str, secret: str, event: str, delivery_id: str, body: bytes) -> Attempt:
    """POST the signed body once and classify the outcome (no retries here: they live in the row)."""
    timestamp = int(time.time())
    request = urllib.request.Request(  # noqa: S310 - the scheme is validated (http/https) on the endpoint
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Helpdesk-Event": event,
            "X-Helpdesk-Delivery": delivery_id,
            "X-Helpdesk-Timestamp": str(timestamp),
            "X-Helpdesk-Signature": sign(secret=secret, timestamp=timestamp, body=body),
        },
    )
    try:
        with _opener.open(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as response:
            return Attempt(delivered=True, status=response.status)
    except urllib.error.HTTPError as exc:  # the receiver answered with a non-2xx status
        temporary = exc.code >= 500 or exc.code == 429
        return Attempt(delivered=False, permanent=not temporary, status=exc.code, error=_error_text(exc))
    except (urllib.error.URLError, HTTPException, OSError) as exc:  # refused, DNS, TLS, timeout, reset: try later
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        return Attempt(delivered=False, error=f"{type(reason).__name__}: {reason}"[:2000])


def _take_ownership(*, delivery_id: int, claim_token: str) -> WebhookDelivery | None:
    """Swap the sweep's claim for one of this send, with a fresh lease (one conditional UPDATE); None: not ours."""
    token = uuid.uuid4().hex
    taken = WebhookDelivery.objects.filter(pk=delivery_id, status=Status.SENDING, claim_token=claim_token).update(
        claim_token=token, lease_until=timezone.now() + lease()
    )
    if taken != 1:
        return None
    return WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)


def _record(*, delivery: WebhookDelivery, attempt: Attempt) -> str:
    attempts = delivery.attempts + 1
    now = timezone.now()
    ours = WebhookDelivery.objects.filter(pk=delivery.pk, status=Status.SENDING, claim_token=delivery.claim_token)
    if attempt.delivered:
        ours.update(
            status=Status.DELIVERED,
            attempts=attempts,
            delivered_at=now,
            lease_until=None,
            claim_token="",
            last_error="",
            response_status=attempt.status,
        )
        return Status.DELIVERED
    give_up = attempt.permanent or attempts >= settings.WEBHOOK_MAX_ATTEMPTS
    ours.update(
        status=Status.FAILED if give_up else Status.QUEUED,
        attempts=attempts,
        next_attempt_at=now + retry_delay(attempts),
        lease_until=None,
        claim_token="",
        last_error=attempt.error[:2000],
        response_status=attempt.status,
    )
    log = logger.error if give_up else logger.warning
    log("webhook delivery %s %s: %s", delivery.pk, "failed" if give_up else "will be retried", attempt.error)
    return Status.FAILED if give_up else Status.QUEUED


def delivery_send(*, delivery_id: int, claim_token: str) -> str | None:
    """POST one claimed delivery and record the outcome on its row. Returns the new status, or None when the claim
    is no longer this call's (already sent by a redelivered task, or reclaimed after the lease expired)."""
    delivery = _take_ownership(delivery_id=delivery_id, claim_token=claim_token)
    if delivery is None:
        return None
    endpoint = delivery.endpoint
    if not endpoint.active:
        attempt = Attempt(delivered=False, permanent=True, error="The endpoint was deactivated.")
    else:
        attempt = post(
            url=endpoint.url,
            secret=endpoint.secret,
            event=delivery.event,
            delivery_id=str(delivery.event_id),
            body=request_body(delivery),
        )
    return _record(delivery=delivery, attempt=attempt)


# --- admin ----------------------------------------------------------------------------------------------------------


@transaction.atomic
def webhook_delivery_retry(*, delivery_id: int) -> bool:
    """Admin action: put a failed delivery back in the queue, due now, with a fresh attempt count."""
    return bool(
        WebhookDelivery.objects.filter(pk=delivery_id, status=Status.FAILED).update(
            status=Status.QUEUED, attempts=0, next_attempt_at=timezone.now(), last_error="", response_status=None
        )
    )


@transaction.atomic
def webhook_delivery_cancel(*, delivery_id: int) -> bool:
    """Admin action: a queued delivery will not be sent (→ failed, "cancelled"). One being sent cannot be cancelled."""
    return bool(
        WebhookDelivery.objects.filter(pk=delivery_id, status=Status.QUEUED).update(
            status=Status.FAILED, last_error="Cancelled by an admin.", lease_until=None, claim_token=""
        )
    )
