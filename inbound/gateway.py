"""The mail gateway: an SMTP (or LMTP) server that the desk's MTA delivers to (`manage.py mail_gateway`).

It answers for an email only once it is stored, so an email is either in the database or still the sending MTA's:
- RCPT TO: the envelope recipient (not the To: header, which a Bcc or a forwarding rule leaves untouched) picks the
  queue: its address, or a plus form of it (the per-ticket reply address). Any other recipient is refused (550) then,
  so the sender learns of a wrong address from its own MTA instead of from a bounce of ours.
- Size: the SIZE extension (RFC 1870) announces INBOUND_MAX_MESSAGE_BYTES; a MAIL FROM declaring more, or DATA
  carrying more, is refused with 552 (aiosmtpd's data_size_limit).
- DATA: one copy per recipient (each recipient's queue) goes to the store thread, and the session waits for it. 250
  comes once the copy is committed; if storing fails the answer is 451, so the MTA keeps the email and tries again
  later (a redelivery of what was stored already is a no-op: the store is idempotent). LMTP answers once per
  recipient (RFC 2033); SMTP answers 250 only when every recipient's copy is stored.
- Group commit (as databases and MTAs do): the one store thread takes every copy waiting (up to BATCH_MAX, and what
  comes within BATCH_WAIT of the first) and stores them in one transaction with inbound.store.inbound_store_many: one
  INSERT, one COMMIT and one routing task a batch instead of each per email, which under concurrent deliveries were
  most of a copy's cost. If the batch fails, each copy is stored alone, so an email the database refuses does not
  turn its neighbours away; unless the database is unreachable (each alone would fail alike: 451 for all of them).
The ORM is synchronous: stores run on the store thread, and recipient lookups on a small pool of threads (each with
its own database connection, checked and replaced when stale before each use, closed when the gateway stops), never
on the event loop that serves the sessions. Which queue an address names is remembered for RECIPIENT_CACHE_SECONDS
(a new queue address is served, a removed one refused, that much later): RCPT is then answered without the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, connections

from tickets.mailthread import base_address
from tickets.models import Queue

from .models import InboundEmail
from .store import Delivery, inbound_store_many, queue_for_recipient

logger = logging.getLogger(__name__)
T = TypeVar("T")

LOOKUP_THREADS = 2  # database connections for recipient lookups (and one for the store thread)
BATCH_MAX = 50  # copies stored in one transaction at most
BATCH_WAIT = 0.002  # seconds the store thread waits for more copies after the first (larger batches, cheaper copies)
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


class StoreThread:
    """The one thread that stores: it takes every copy waiting and stores them in one transaction (group commit).
    Each copy's outcome goes to its session's future on the gateway's event loop, one wake-up of the loop a batch."""

    def __init__(self) -> None:
        self._waiting: queue.SimpleQueue[tuple[Delivery, asyncio.Future[bool]] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="mail-gateway-store", daemon=True)
        self._thread.start()

    def store(self, deliveries: list[Delivery]) -> list[asyncio.Future[bool]]:
        """On the event loop: a future per copy, True once it is committed (stored now or before), False if not."""
        loop = asyncio.get_running_loop()
        futures = [loop.create_future() for _ in deliveries]
        for delivery, future in zip(deliveries, futures, strict=True):
            self._waiting.put((delivery, future))
        return futures

    def stop(self) -> None:
        """Store what is waiting, then close the thread's database connection and end it."""
        self._waiting.put(None)
        self._thread.join()

    def _run(self) -> None:
        try:
            while (first := self._waiting.get()) is not None:
                batch, stopping = [first], False
                deadline = time.monotonic() + BATCH_WAIT
                while len(batch) < BATCH_MAX:
                    try:
                        item = self._waiting.get(timeout=max(0.0, deadline - time.monotonic()))
                    except queue.Empty:
                        break
                    if item is None:
                        stopping = True
                        break
                    batch.append(item)
                outcomes = self._store([delivery for delivery, _ in batch])
                futures = [future for _, future in batch]
                with contextlib.suppress(RuntimeError):  # the gateway stopped, its loop closed: nobody to answer
                    futures[0].get_loop().call_soon_threadsafe(_settle, futures, outcomes)
                if stopping:
                    break
        finally:
            connections.close_all()

    def _store(self, deliveries: list[Delivery]) -> list[bool]:
        close_old_connections()  # as at the start of a request: a stale or broken connection is replaced first
        try:
            inbound_store_many(deliveries)
        except (OperationalError, InterfaceError):  # the database is unreachable: each alone would fail too
            logger.exception("mail gateway: %d emails could not be stored (answered 451)", len(deliveries))
            return [False] * len(deliveries)
        except Exception:
            if len(deliveries) == 1:
                logger.exception("inbound email for %s could not be stored (answered 451)", deliveries[0].recipient)
                return [False]
            logger.warning("mail gateway: a batch of %d failed, storing each alone", len(deliveries), exc_info=True)
            return [self._store([delivery])[0] for delivery in deliveries]
        return [True] * len(deliveries)


def _settle(futures: list[asyncio.Future[bool]], outcomes: list[bool]) -> None:
    """On the event loop: a session that ended meanwhile (its future cancelled) is left alone."""
    for future, stored in zip(futures, outcomes, strict=True):
        if not future.done():
            future.set_result(stored)


class GatewayHandler:
    """aiosmtpd's handler: the hooks of RCPT and DATA."""

    def __init__(self, *, channel: str, executor: ThreadPoolExecutor, store_thread: StoreThread) -> None:
        self.channel = channel
        self.executor = executor
        self.store_thread = store_thread
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
        deliveries = [
            Delivery(raw, queue, self.channel, recipient, sender)
            for recipient, queue in zip(envelope.rcpt_tos, queues, strict=True)
        ]
        stored = [await future for future in self.store_thread.store(deliveries)]
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
    """The server on its event-loop thread, the store thread and the pool of lookup threads. `start()`, `stop()`."""

    def __init__(self, *, host: str, port: int, lmtp: bool = False, lookup_threads: int = LOOKUP_THREADS) -> None:
        self.host, self.port, self.lmtp = host, port, lmtp
        self.lookup_threads = lookup_threads
        self.executor = ThreadPoolExecutor(max_workers=lookup_threads, thread_name_prefix="mail-gateway-lookup")
        self.store_thread = StoreThread()
        channel = InboundEmail.Channel.LMTP if lmtp else InboundEmail.Channel.SMTP
        self.controller = _Controller(
            GatewayHandler(channel=channel, executor=self.executor, store_thread=self.store_thread),
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
        """Stop listening and end the sessions (an email not answered yet stays the MTA's), store what is already
        waiting, then close every thread's database connection."""
        self.controller.stop()
        self.store_thread.stop()
        barrier = threading.Barrier(self.lookup_threads)

        def close_connection() -> None:  # one per thread: each waits at the barrier until all threads have one
            connections.close_all()
            barrier.wait(timeout=30)

        for future in [self.executor.submit(close_connection) for _ in range(self.lookup_threads)]:
            future.result()
        self.executor.shutdown(wait=True)
