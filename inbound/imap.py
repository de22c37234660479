"""Polling a queue's IMAP mailbox: every new message stored (inbound.store), then routed like any email in.

- Progress is the last UID stored under the folder's UIDVALIDITY, never the \\Seen flag (a person reading the mailbox
  changes it): the folder is opened read-only (EXAMINE) and bodies fetched with BODY.PEEK, so no flag changes.
- Store first, then move past the UID (an UPDATE of its own): a crash between the two fetches the message again next
  time, and the store finds it stored (same bytes). A new UIDVALIDITY (the folder was recreated or rebuilt) starts
  again from UID 1; the store de-duplicates what it already has.
- Sizes first (RFC822.SIZE): a message over INBOUND_MAX_MESSAGE_BYTES (the gateway's limit) is not fetched; its
  headers are stored as an ignored row that says so, and the poller moves past it.
- One poller per mailbox at a time: a lease (polling_until) claimed by a conditional UPDATE and renewed with every
  UID recorded; a poller that died leaves it to expire.
- Errors (login refused, network, a server that went away) are recorded in last_error and logged, never raised:
  one bad mailbox does not stop the others.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses

from cryptography.fernet import InvalidToken
from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from imap_tools import AND, BaseMailBox, MailBox, MailBoxStartTls, MailBoxUnencrypted, U

from tickets.mailthread import base_address, reply_address_ticket_id

from .models import ImapMailbox
from .store import inbound_store, inbound_store_unfetched

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)  # renewed with every message, so only one stuck this long lets another poller in
BATCH = 100  # messages per poll at most: a full mailbox is worked through over several polls
TIMEOUT_SECONDS = 30  # per socket operation
RECIPIENT_HEADERS = ("Delivered-To", "X-Original-To", "To", "Cc")


def _connect(mailbox: ImapMailbox) -> BaseMailBox:
    if mailbox.security == ImapMailbox.Security.SSL:
        return MailBox(mailbox.host, mailbox.port, timeout=TIMEOUT_SECONDS)
    if mailbox.security == ImapMailbox.Security.STARTTLS:
        return MailBoxStartTls(mailbox.host, mailbox.port, timeout=TIMEOUT_SECONDS)
    return MailBoxUnencrypted(mailbox.host, mailbox.port, timeout=TIMEOUT_SECONDS)


def _recipient(raw: bytes, queue_address: str) -> str:
    """The queue's address the message came to. IMAP has no envelope: a ticket's reply address (support+123.mac@),
    as the receiving server recorded it (Delivered-To) or as the sender wrote it, counts like an envelope recipient
    (only its MAC, which only a recipient of our email knows, makes it a reference to the ticket)."""
    headers = BytesHeaderParser(policy=compat32).parsebytes(raw)
    ours = base_address(queue_address)
    values = [str(value) for name in RECIPIENT_HEADERS for value in headers.get_all(name, [])]
    for _, address in getaddresses(values):
        if base_address(address) == ours and reply_address_ticket_id(address) is not None:
            return address
    return queue_address


def _claim(mailbox_id: int) -> bool:
    now = timezone.now()
    return bool(
        ImapMailbox.objects.filter(pk=mailbox_id, enabled=True)
        .filter(Q(polling_until__isnull=True) | Q(polling_until__lt=now))
        .update(polling_until=now + LEASE)
    )


def _uidvalidity_check(mailbox: ImapMailbox, uidvalidity: int) -> None:
    """A new UIDVALIDITY means the old UIDs name nothing any more: start again from the first message."""
    if mailbox.uidvalidity == uidvalidity:
        return
    if mailbox.uidvalidity is not None:
        logger.warning("IMAP mailbox %s: UIDVALIDITY changed, fetching every message again", mailbox.pk)
    ImapMailbox.objects.filter(pk=mailbox.pk).update(uidvalidity=uidvalidity, last_uid=0)
    mailbox.uidvalidity, mailbox.last_uid = uidvalidity, 0


def uid_record(*, mailbox_id: int, uidvalidity: int, uid: int) -> None:
    """Every message up to `uid` is stored: move past it (never backwards) and renew the lease."""
    ImapMailbox.objects.filter(pk=mailbox_id, uidvalidity=uidvalidity, last_uid__lt=uid).update(
        last_uid=uid, polling_until=timezone.now() + LEASE
    )


def _fetch_raw(client: BaseMailBox, uid: int, *, part: str = "") -> bytes | None:
    """The message (or its header, part="HEADER") exactly as the server holds it (BODY.PEEK: \\Seen untouched);
    None if it was expunged."""
    status, data = client.client.uid("FETCH", str(uid), f"(BODY.PEEK[{part}])")
    if status != "OK":
        raise OSError(f"UID FETCH {uid}: {status} {data!r}")
    return next((bytes(item[1]) for item in data if isinstance(item, tuple)), None)


def _sizes(client: BaseMailBox, uids: list[int]) -> dict[int, int]:
    """RFC822.SIZE of each message, asked before any is fetched (one command for the batch)."""
    if not uids:
        return {}
    status, data = client.client.uid("FETCH", ",".join(map(str, uids)), "(RFC822.SIZE)")
    if status != "OK":
        raise OSError(f"UID FETCH RFC822.SIZE: {status} {data!r}")
    sizes = {}
    for item in data:
        line = item[0] if isinstance(item, tuple) else item
        uid, size = re.search(rb"UID (\d+)", line or b""), re.search(rb"RFC822\.SIZE (\d+)", line or b"")
        if uid and size:
            sizes[int(uid.group(1))] = int(size.group(1))
    return sizes


def _store(client: BaseMailBox, mailbox: ImapMailbox, uid: int, size: int) -> tuple[bool, bool] | None:
    """Store one message: (created, too large); None if it was expunged. One larger than INBOUND_MAX_MESSAGE_BYTES
    is not fetched: a row with its headers only records it, for an admin to see."""
    too_large = size > settings.INBOUND_MAX_MESSAGE_BYTES
    raw = _fetch_raw(client, uid, part="HEADER" if too_large else "")
    if raw is None:
        return None
    recipient = _recipient(raw, mailbox.queue.reply_from_email)
    if too_large:
        _, created = inbound_store_unfetched(headers=raw, size=size, queue=mailbox.queue, recipient=recipient)
    else:
        _, created = inbound_store(raw=raw, queue=mailbox.queue, channel="imap", recipient=recipient)
    return created, too_large


def _poll(mailbox: ImapMailbox) -> tuple[int, int, int]:
    """Store the new messages (oldest first); returns (fetched, newly stored, too large)."""
    try:
        password = mailbox.password()
    except InvalidToken:
        raise ValueError("password not decryptable (INBOUND_CREDENTIALS_KEY changed?): enter it again") from None
    fetched = stored = too_large = 0
    with _connect(mailbox).login(mailbox.username, password, initial_folder=None) as client:
        client.folder.set(mailbox.folder, readonly=True)
        _, uidvalidity_data = client.client.response("UIDVALIDITY")
        uidvalidity = int(uidvalidity_data[0])
        _uidvalidity_check(mailbox, uidvalidity)
        # `N:*` always names the last message, even when N is past it: keep only the UIDs after last_uid.
        uids = sorted(int(uid) for uid in client.uids(AND(uid=U(str(mailbox.last_uid + 1), "*"))))
        batch = [uid for uid in uids if uid > mailbox.last_uid][:BATCH]
        sizes = _sizes(client, batch)
        for uid in batch:
            result = _store(client, mailbox, uid, sizes.get(uid, 0))
            if result is not None:
                created, skipped = result
                if skipped:
                    too_large += 1
                else:
                    fetched, stored = fetched + 1, stored + created
            uid_record(mailbox_id=mailbox.pk, uidvalidity=uidvalidity, uid=uid)
    return fetched, stored, too_large


def imap_mailbox_poll(*, mailbox_id: int) -> str:
    """Poll one mailbox unless another poller holds it or it is disabled; returns what happened, in words."""
    if not _claim(mailbox_id):
        return "not polled: disabled, or another poller is at work"
    mailbox = ImapMailbox.objects.select_related("queue").get(pk=mailbox_id)
    error = ""
    try:
        fetched, stored, too_large = _poll(mailbox)
        summary = f"{fetched} fetched, {stored} new" + (f", {too_large} too large" if too_large else "")
    except Exception as exc:  # one bad mailbox never stops the others; the admin shows why
        logger.warning("IMAP mailbox %s (%s) not polled", mailbox.pk, mailbox, exc_info=True)
        error = f"{type(exc).__name__}: {exc}"
        summary = f"failed: {error}"
    ImapMailbox.objects.filter(pk=mailbox_id).update(
        polling_until=None, last_polled_at=timezone.now(), last_error=error[:2000]
    )
    return summary
