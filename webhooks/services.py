"""Writes of the webhooks app: emit an event, and the send step of the leased-job mechanism for deliveries.

The claim, lease, retry and cancel rules, and the guarantees they give, are those of every leased job: see
`common.leased_jobs` (settings WEBHOOK_LEASE_SECONDS, WEBHOOK_RETRY_BASE_SECONDS, WEBHOOK_RETRY_MAX_SECONDS,
WEBHOOK_MAX_ATTEMPTS, WEBHOOK_MAX_AGE_HOURS) and `common.breakers` (WEBHOOK_BREAKER_BASE_SECONDS,
WEBHOOK_BREAKER_MAX_SECONDS). What is the webhooks' own:
- `webhook_event_emit` inserts one delivery per subscribed active endpoint in the caller's transaction: a delivery
  exists if and only if the change that caused the event committed. No HTTP request is made from a web request.
- A send task POSTs one delivery, signed with its endpoint's secret. The receiver's answer is about this delivery:
  5xx and 429 are temporary refusals (retried after the backoff); other 4xx and redirects (never followed) are
  permanent, and so is an endpoint deactivated since. No answer at all (connection refused or reset, timeout, DNS,
  TLS) is transport trouble: the delivery goes back to the queue with no attempt spent and the endpoint's circuit
  breaker ("webhook:<endpoint id>") opens.
- One breaker per endpoint, not per host: the endpoint is what an admin adds, deactivates and reads about, and a
  timeout can be one slow receiver on a host shared with healthy ones; a dead host with several endpoints costs one
  probe per endpoint, which is cheap.
- Every attempt carries the same X-Helpdesk-Delivery id, so receivers can de-duplicate a resend from the one duplicate
  window (a crash after the receiver answered 2xx and before the row is marked delivered).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from http.client import HTTPException
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q
from django.utils import timezone

from common.breakers import Breaker
from common.erasure import ERASED_TEXT
from common.leased_jobs import JobQueue

from .events import webhook_events
from .models import WebhookDelivery, WebhookEndpoint

Status = WebhookDelivery.Status
USER_AGENT = "helpdesk-webhooks/1"
ERROR_BODY_CHARS = 500

delivery_jobs = JobQueue(WebhookDelivery, done=Status.DELIVERED, settings_prefix="WEBHOOK")
BREAKER_PREFIX = "webhook:"


def endpoint_breaker(endpoint_id: int) -> Breaker:
    """The circuit breaker of one endpoint."""
    return Breaker(f"{BREAKER_PREFIX}{endpoint_id}", settings_prefix="WEBHOOK")


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
    webhook_events.require(event)
    endpoints = [e for e in WebhookEndpoint.objects.filter(active=True).only("pk", "events") if event in e.events]
    if not endpoints:
        return 0
    data = json.loads(json.dumps(payload, cls=_PayloadEncoder))
    now = timezone.now()
    expires_at = delivery_jobs.expires_at(due=now)
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                endpoint=endpoint, event=event, payload=data, created_at=now, next_attempt_at=now, expires_at=expires_at
            )
            for endpoint in endpoints
        ]
    )
    return len(endpoints)


# --- sending (worker) -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    """The outcome of one POST: delivered, or a failure that is temporary (retry later), permanent, or transport
    trouble (no answer from the receiver)."""

    delivered: bool
    permanent: bool = False
    transport: bool = False
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
    except (urllib.error.URLError, HTTPException, OSError) as exc:  # refused, DNS, TLS, timeout, reset: no answer
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        return Attempt(delivered=False, transport=True, error=f"{type(reason).__name__}: {reason}"[:2000])


def deliveries_claim_due(*, now: datetime | None = None) -> list[tuple[str, list[int]]]:
    """The sweep's claims, each (claim token, ids): every due delivery of the endpoints whose breaker is closed, and
    for each endpoint whose breaker is not, nothing while it is open and one delivery (the probe) once it half-opens.
    Rows past their expiry or attempts are failed in any case."""
    now = now or timezone.now()
    tripped = {int(row.name.removeprefix(BREAKER_PREFIX)) for row in Breaker.tripped(prefix=BREAKER_PREFIX)}
    claims = [delivery_jobs.claim_due(now=now, where=~Q(endpoint_id__in=tripped))]
    for endpoint_id in sorted(tripped):
        where = Q(endpoint_id=endpoint_id)
        claims.append(delivery_jobs.claim_through(endpoint_breaker(endpoint_id), limit=1, now=now, where=where))
    return [(token, ids) for token, ids in claims if ids]


def delivery_send(*, delivery_id: int, claim_token: str) -> str | None:
    """POST one claimed delivery and record the outcome on its row. Returns the new status, or None when the claim
    is no longer this call's (already sent by a redelivered task, or reclaimed after the lease expired)."""
    delivery = delivery_jobs.take(ids=[delivery_id], claim_token=claim_token).select_related("endpoint").first()
    if delivery is None:
        return None
    endpoint = delivery.endpoint
    breaker = endpoint_breaker(endpoint.pk)
    if not endpoint.active:
        attempt = Attempt(delivered=False, permanent=True, error="The endpoint was deactivated.")
    elif breaker.blocks(claim_token=claim_token):  # claimed before the breaker opened: not tried while it is
        return Status.QUEUED if delivery_jobs.release([delivery]) else None
    else:
        attempt = post(
            url=endpoint.url,
            secret=endpoint.secret,
            event=delivery.event,
            delivery_id=str(delivery.event_id),
            body=request_body(delivery),
        )
    if attempt.transport:
        breaker.trip(error=attempt.error, claim_token=claim_token)
        return Status.QUEUED if delivery_jobs.release([delivery], error=attempt.error) else None
    if attempt.status is not None:  # the receiver answered: the endpoint is reachable
        breaker.close()
    if attempt.delivered:
        done = delivery_jobs.complete(delivery, delivered_at=timezone.now(), response_status=attempt.status)
        return Status.DELIVERED if done else None
    return delivery_jobs.fail(
        delivery, error=attempt.error, permanent=attempt.permanent, response_status=attempt.status
    )


# --- admin ----------------------------------------------------------------------------------------------------------


def webhook_delivery_retry(*, delivery_id: int) -> bool:
    """Admin action: put a failed or cancelled delivery back in the queue, due now, with a fresh attempt count."""
    return delivery_jobs.retry(pk=delivery_id, response_status=None)


def webhook_delivery_cancel(*, delivery_id: int) -> bool:
    """Admin action: a queued or failed delivery will not be sent (→ cancelled). One being sent cannot be cancelled."""
    return delivery_jobs.cancel(pk=delivery_id)


# --- erasure (inside the caller's transaction) ----------------------------------------------------------------------


def webhook_payloads_erase(*, event: str, key: str, values: Iterable[int], fields: Iterable[str]) -> int:
    """Erasing a person's data: in the deliveries of `event` whose payload's `key` is one of `values` (e.g. their
    invitations' ids), the non-empty `fields` become ERASED_TEXT — in deliveries not made yet too, which then carry
    the erased payload. Returns how many deliveries changed."""
    ids, names = list(values), list(fields)
    if not ids:
        return 0
    changed = 0
    deliveries = WebhookDelivery.objects.select_for_update().filter(event=event, **{f"payload__{key}__in": ids})
    for delivery in deliveries.order_by("pk"):
        erased = {name: ERASED_TEXT for name in names if delivery.payload.get(name)}
        if erased:
            delivery.payload = {**delivery.payload, **erased}
            delivery.save(update_fields=["payload"])
            changed += 1
    return changed
