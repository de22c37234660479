"""Store first: an email is written to InboundEmail (committed) before the gateway answers 250 or the IMAP poller
moves past its UID, then routed by a Celery task.

- Idempotent: unique by (queue, Message-ID, SHA-256 of the raw bytes), so a redelivery of the same bytes is a no-op;
  the same Message-ID with other bytes (a backup MX's Received: header, or a forged copy) is stored beside the first,
  and routing decides (a redelivery of the first, or held).
- Our own live links quoted in the email (survey, unsubscribe, conversation: any link to SITE_URL carrying a token),
  in its text and in its text attachments, are replaced with REDACTED before it is stored, so no live token sits in
  the database.
  A message too broken to walk (e.g. MIME nested past the recursion limit) is redacted as bytes and stored anyway.
- Large raw messages go to file storage (INBOUND_RAW_INLINE_MAX_BYTES), small ones stay in the row.
- The routing task is sent after the commit; if the broker drops it, the beat sweep sends it again.
- inbound_store stores one email (IMAP, tests); inbound_store_many a batch in one transaction (the gateway's group
  commit), with one routing task for the batch.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence
from email import message_from_bytes, policy
from email.charset import Charset
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import NamedTuple

from celery import current_app
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from tickets.mailthread import base_address
from tickets.models import Queue

from .models import InboundEmail
from .parsing import decode_part, header_text

logger = logging.getLogger(__name__)

REDACTED = "[link removed]"
ROUTE_TASK = "inbound.tasks.route_inbound_email"
ROUTE_MANY_TASK = "inbound.tasks.route_inbound_emails"


def _our_link() -> re.Pattern[str]:
    site = re.escape(settings.SITE_URL.rstrip("/"))
    return re.compile(site + r"/[^\s<>\"'()\[\]]*[A-Za-z0-9_-]{32,}[^\s<>\"'()\[\]]*")


def _redact_part(part: Message, pattern: re.Pattern[str]) -> bool:
    text = decode_part(part)
    redacted = pattern.sub(REDACTED, text)
    if redacted == text:
        return False
    del part["Content-Transfer-Encoding"]
    part.set_payload(redacted, Charset("utf-8"))
    return True


def links_redact(raw: bytes) -> bytes:
    """The email with our tokened links replaced; the very same bytes when it quotes none."""
    pattern = _our_link()
    host = settings.SITE_URL.split("://")[-1].split("/")[0].encode()
    # A link can hide in a base64 or quoted-printable body: only a message with no encoded text part and no sight of
    # our host is passed through unparsed.
    if host not in raw and b"base64" not in raw.lower() and b"quoted-printable" not in raw.lower():
        return raw
    try:
        message = message_from_bytes(raw, policy=compat32)
        changed = False
        for part in message.walk():
            if part.get_content_maintype() == "text":  # the body and text attachments alike
                changed = _redact_part(part, pattern) or changed
        return message.as_bytes() if changed else raw
    except Exception:  # e.g. MIME nested past the recursion limit: stored anyway, its readable links redacted
        text = raw.decode("latin-1")
        return pattern.sub(REDACTED, text).encode("latin-1")


def queue_for_recipient(address: str) -> Queue | None:
    """The queue an envelope recipient names: its address, or a plus form of it (the per-ticket reply address)."""
    return (
        Queue.objects.annotate(address=Lower("reply_from_email")).filter(address=base_address(address.strip())).first()
    )


class Delivery(NamedTuple):
    """One received email for one queue (the gateway makes one per accepted recipient)."""

    raw: bytes
    queue: Queue
    channel: str
    recipient: str = ""
    envelope_sender: str = ""


class _Received(NamedTuple):
    delivery: Delivery
    key: tuple[int, str, str]  # (queue id, Message-ID, SHA-256): what makes a delivery unique
    headers: Message


_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_ADDR_SPEC = rf"{_ATOM}(?:\.{_ATOM})*@{_ATOM}(?:\.{_ATOM})*"
# Plain ASCII values that the default policy's parse gives back as they are, but for white space (header_text folds
# it): a Message-ID "<left@right>"; a From "name words <address>" or "address"; any Subject (an encoded word "=?"
# is never plain). Most emails' are; the others are parsed.
_PLAIN = {
    "message-id": re.compile(rf"<{_ADDR_SPEC}>"),
    "from": re.compile(rf"{_ADDR_SPEC}|{_ATOM}(?:[ \t]+{_ATOM})*[ \t]+<{_ADDR_SPEC}>"),
    "subject": re.compile(r"[\x20-\x7e\t\r\n]*"),
}


def _header(headers: Message, name: str) -> str:
    """header_text(headers, name)[:998], without the default policy's parse of a plain value (that parse was the
    larger part of storing an email)."""
    raw = next((value for key, value in headers.raw_items() if key.lower() == name), None)
    if raw is not None and "=?" not in raw and _PLAIN[name].fullmatch(raw.strip()):
        return " ".join(raw.split())[:998]
    return header_text(headers, name)[:998]


def _received(delivery: Delivery) -> _Received:
    # Parsed as compat32, then read as the default policy reads (the same values: both split header lines alike), so
    # the parser skips the default policy's parsing of Content-Type, which cost more than the rest of the store.
    headers = BytesHeaderParser(policy=compat32).parsebytes(delivery.raw)
    headers.policy = policy.default
    message_id = _header(headers, "message-id")
    return _Received(delivery, (delivery.queue.pk, message_id, hashlib.sha256(delivery.raw).hexdigest()), headers)


def _new_row(received: _Received) -> InboundEmail:
    """The row to insert (not saved; a large message's file is written already)."""
    delivery, (_, message_id, digest), headers = received
    stored = links_redact(delivery.raw)
    row = InboundEmail(
        queue=delivery.queue,
        channel=delivery.channel,
        recipient=delivery.recipient[:998],
        envelope_sender=delivery.envelope_sender[:998],
        message_id=message_id,
        sha256=digest,
        size=len(delivery.raw),
        from_address=_header(headers, "from"),
        subject=_header(headers, "subject"),
    )
    if len(stored) > settings.INBOUND_RAW_INLINE_MAX_BYTES:
        row.raw_file.save(f"{digest}.eml", ContentFile(stored), save=False)
    else:
        row.raw = stored
    return row


def inbound_store(
    *, raw: bytes, queue: Queue, channel: str, recipient: str = "", envelope_sender: str = ""
) -> tuple[InboundEmail, bool]:
    """Store one received email (committed when this returns) and have it routed. Returns (row, created): a
    redelivery of the same bytes returns the stored row, created False."""
    received = _received(Delivery(raw, queue, channel, recipient, envelope_sender))
    _, message_id, digest = received.key
    stored = InboundEmail.objects.filter(queue=queue, message_id=message_id, sha256=digest)
    existing = stored.first()
    if existing is not None:
        return existing, False
    row = _new_row(received)
    try:
        with transaction.atomic():
            row.save(force_insert=True)
    except IntegrityError:  # the same email stored by a concurrent delivery
        return stored.get(), False
    transaction.on_commit(lambda: route_later(row.pk))
    return row, True


def inbound_store_unfetched(
    *, headers: bytes, size: int, queue: Queue, recipient: str = ""
) -> tuple[InboundEmail, bool]:
    """Record an IMAP message over INBOUND_MAX_MESSAGE_BYTES that was not fetched: its headers only, ignored (never
    routed), for an admin to see. Returns (row, created), as inbound_store does."""
    received = _received(Delivery(headers, queue, InboundEmail.Channel.IMAP, recipient))
    row = _new_row(received)
    row.size, row.status, row.routed_at = size, InboundEmail.Status.IGNORED, timezone.now()
    row.outcome = f"Not fetched: {size} bytes, over INBOUND_MAX_MESSAGE_BYTES ({settings.INBOUND_MAX_MESSAGE_BYTES})"
    _, message_id, digest = received.key
    try:
        with transaction.atomic():
            row.save(force_insert=True)
    except IntegrityError:  # recorded already (a poll that died before moving past it)
        return InboundEmail.objects.get(queue=queue, message_id=message_id, sha256=digest), False
    return row, True


def inbound_store_many(deliveries: Sequence[Delivery]) -> list[tuple[InboundEmail, bool]]:
    """Store a batch of received emails in one transaction (the gateway's group commit: one INSERT, one COMMIT and
    one routing task for the batch) — committed when this returns. Returns (row, created) per delivery, in order, as
    inbound_store does; the same email twice in the batch is one row (created for the first only).
    No SELECT first: a redelivery of a stored email is rare (a 250 lost on its way), so the batch is inserted as it
    is, and if that violates the uniqueness (a redelivery, or a concurrent store by another process) it is rolled back
    and stored one by one with inbound_store instead."""
    received = [_received(delivery) for delivery in deliveries]
    new: dict[tuple[int, str, str], InboundEmail] = {}
    for item in received:
        if item.key not in new:
            new[item.key] = _new_row(item)
    try:
        with transaction.atomic():
            InboundEmail.objects.bulk_create(new.values())
    except IntegrityError:
        for row in new.values():
            if row.raw_file:
                row.raw_file.delete(save=False)  # inbound_store writes its own
        return [inbound_store(**delivery._asdict()) for delivery in deliveries]
    if new:
        ids = [row.pk for row in new.values()]
        transaction.on_commit(lambda: route_later(*ids))
    seen: set[tuple[int, str, str]] = set()
    results = []
    for item in received:
        results.append((new[item.key], item.key not in seen))
        seen.add(item.key)
    return results


def route_later(*email_ids: int) -> None:
    """Send the routing task: route_inbound_email for one email, route_inbound_emails for a batch (stored in one
    transaction). If the broker is down the rows stay received and the beat sweep sends the task later."""
    single = len(email_ids) == 1
    try:
        current_app.send_task(ROUTE_TASK if single else ROUTE_MANY_TASK, args=[email_ids[0] if single else email_ids])
    except Exception:
        logger.warning("inbound emails %s stored, routing task not sent (the sweep will)", email_ids, exc_info=True)
