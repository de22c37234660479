"""The mail gateway: an SMTP (or LMTP) server that the desk's MTA delivers to (`manage.py mail_gateway`).

It answers for an email only once it is stored, so an email is either in the database or still the sending MTA's:
- RCPT TO: the envelope recipient (not the To: header, which a Bcc or a forwarding rule leaves untouched) picks the
  queue: its address, or a plus form of it (the per-ticket reply address). Any other recipient is refused (550) then,
  so the sender learns of a wrong address from its own MTA instead of from a bounce of ours.
- Size: the SIZE extension (RFC 1870) announces INBOUND_MAX_MESSAGE_BYTES; a MAIL FROM declaring more, or DATA
  carrying more, is refused with 552 (aiosmtpd's data_size_limit).
- DATA: stored once per recipient (each recipient's queue) through inbound.store.inbound_store, which commits and
  sends the routing task. 250 comes after that; if storing fails the answer is 451, so the MTA keeps the email and
  tries again later (a redelivery of what was stored already is a no-op: the store is idempotent). LMTP answers once
  per recipient (RFC 2033); SMTP answers 250 only when every recipient's copy is stored.
The ORM is synchronous: lookups and stores run on a small pool of threads of their own (each with its own database
connection, checked and replaced when stale before each use, closed when the gateway stops), never on the event loop
that serves the sessions. Which queue an address names is remembered for RECIPIENT_CACHE_SECONDS (a new queue
address is served, a removed one refused, that much later): RCPT is then answered without the database.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.conf import settings
from django.db import close_old_connections, connections

from tickets.mailthread import base_address
from tickets.models import Queue

from .models import InboundEmail
from .store import inbound_store, queue_for_recipient

logger = logging.getLogger(__name__)
T = TypeVar("T")

STORE_THREADS = 8  # database connections the gateway holds at most
RECIPIENT_CACHE_SECONDS = 10.0
RECIPIENT_CACHE_SIZE = 1000  # addresses; emptied when full (a sender trying many addresses cannot grow it)
RCPT_OK = "250 2.1.5 OK"
RCPT_UNKNOWN = "550 5.1.1 No such mailbox here"
RCPT_TRY_LATER = "451 4.3.0 Could not look up the mailbox, try again later"
STORED = "250 2.0.0 Stored"
STORE_TRY_LATER = "451 4.3.0 Could not store the message, try again later"


def _with_fresh_connection(function: Callable[..., T], *args: Any) -> T:
    """Run in a store thread: a connection past CONN_MAX_AGE, or broken by an error of the previous use, is replaced
    first (as at the start of a request; checking after each use too would cost a health-check query per use)."""
    close_old_connections()
    return function(*args)


def _store_copies(recipients: list[tuple[str, Queue]], *, raw: bytes, channel: str, sender: str) -> list[bool]:
    """Store the email once per recipient; whether each copy is stored (committed)."""
    stored = []
    for recipient, queue in recipients:
        try:
            inbound_store(raw=raw, queue=queue, channel=channel, recipient=recipient, envelope_sender=sender)
        except Exception:
            logger.exception("inbound email for %s could not be stored (answered 451)", recipient)
            stored.append(False)
        else:
            stored.append(True)
    return stored


class GatewayHandler:
    """aiosmtpd's handler: the hooks of RCPT and DATA."""

    def __init__(self, *, channel: str, executor: ThreadPoolExecutor) -> None:
        self.channel = channel
        self.executor = executor
        self._queues: WeakKeyDictionary[Envelope, list[Queue]] = WeakKeyDictionary()  # per transaction, RCPT order
        self._recipients: dict[str, tuple[float, Queue | None]] = {}  # base address → (looked up at, its queue)

    async def _in_thread(self, function: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, _with_fresh_connection, function, *args)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        key, now = base_address(address), time.monotonic()
        cached = self._recipients.get(key)
        if cached is not None and now - cached[0] < RECIPIENT_CACHE_SECONDS:
            queue = cached[1]
        else:
            try:
                queue = await self._in_thread(queue_for_recipient, address)
            except Exception:
                logger.exception("mail gateway: looking up the recipient %s failed (answered 451)", address)
                return RCPT_TRY_LATER
            if len(self._recipients) >= RECIPIENT_CACHE_SIZE:
                self._recipients.clear()
            self._recipients[key] = (now, queue)
        if queue is None:
            return RCPT_UNKNOWN
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        self._queues.setdefault(envelope, []).append(queue)
        return RCPT_OK

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        queues = self._queues.pop(envelope, [])
        raw = envelope.original_content or b""
        sender = "" if envelope.mail_from in (None, "<>") else str(envelope.mail_from)  # "<>": a bounce
        store = partial(_store_copies, raw=raw, channel=self.channel, sender=sender)
        stored = await self._in_thread(store, list(zip(envelope.rcpt_tos, queues, strict=True)))
        if self.channel == InboundEmail.Channel.LMTP:  # one reply line per accepted recipient, in RCPT order
            return "\r\n".join(STORED if ok else STORE_TRY_LATER for ok in stored)
        return STORED if stored and all(stored) else STORE_TRY_LATER


class _Controller(Controller):
    def __init__(self, handler: GatewayHandler, *, lmtp: bool, **kwargs: Any) -> None:
        self.lmtp = lmtp
        super().__init__(handler, **kwargs)

    def factory(self) -> SMTP:
        return (LMTP if self.lmtp else SMTP)(self.handler, **self.SMTP_kwargs)


class Gateway:
    """The server on its event-loop thread, and the pool of threads that use the database. `start()`, `stop()`."""

    def __init__(self, *, host: str, port: int, lmtp: bool = False, store_threads: int = STORE_THREADS) -> None:
        self.host, self.port, self.lmtp = host, port, lmtp
        self.store_threads = store_threads
        self.executor = ThreadPoolExecutor(max_workers=store_threads, thread_name_prefix="mail-gateway-db")
        channel = InboundEmail.Channel.LMTP if lmtp else InboundEmail.Channel.SMTP
        self.controller = _Controller(
            GatewayHandler(channel=channel, executor=self.executor),
            lmtp=lmtp,
            hostname=host,
            port=port,
            data_size_limit=settings.INBOUND_MAX_MESSAGE_BYTES,
        )

    @property
    def protocol(self) -> str:
        return "LMTP" if self.lmtp else "SMTP"

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        """Stop listening and end the sessions (an email not answered yet stays the MTA's), let running stores
        finish, then close every store thread's database connection."""
        self.controller.stop()
        barrier = threading.Barrier(self.store_threads)

        def close_connection() -> None:  # one per thread: each waits at the barrier until all threads have one
            connections.close_all()
            barrier.wait(timeout=30)

        for future in [self.executor.submit(close_connection) for _ in range(self.store_threads)]:
            future.result()
        self.executor.shutdown(wait=True)
