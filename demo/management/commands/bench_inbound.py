"""`manage.py bench_inbound --n 1000`: email in, through the mail gateway (a report, not a test).

Three figures of one run, each with the same client load: demo.smtp_load in a process of its own, --connections
concurrent smtplib connections (default 16: an MTA delivers in parallel, Postfix's default destination concurrency is
20; one thread each, many emails per connection), N small emails with their own Message-ID and sender, to a fresh
bench queue's address:
(a) aiosmtpd bare: a Controller whose handler answers "250 OK" and keeps nothing — the ceiling of the server library;
(b) the gateway (inbound.gateway, in this process): each email stored (InboundEmail committed, in batches of the
    emails waiting, a routing task a batch sent to a broker queue nobody reads, purged after) before it is
    answered: emails/s, and the ratio (b)/(a);
(c) end to end: the gateway again, and a `celery worker` subprocess routing what is stored; timed from the first email
    sent until every email is a ticket message (the last routed_at; this process polls the database).
For (a) and (b) it also prints the CPU time this process (the server) spent per email: the gateway is one process
(one interpreter lock), so its rate is bounded by that CPU time.
The bench data (queue, inbound emails, tickets, customers, confirmation emails) is deleted afterwards unless --keep;
a run that was killed leaves its queue, deleted by the next run.
"""

from __future__ import annotations

import re
import statistics
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any, NamedTuple

import redis
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from celery import current_app as celery_app
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import Max
from django.test.utils import override_settings
from kombu import Queue as BrokerQueue

from inbound.gateway import BATCH_MAX, Gateway
from inbound.models import InboundEmail
from outbox.models import OutgoingEmail
from tickets.models import Customer, Queue, Ticket

from ...processes import HOST, database_url, free_port, load_start, worker_start

TARGET_RATIO = 0.5
BENCH_DOMAIN = "bench.example.org"
SLUG_PREFIX = "bench-inbound-"


class Rate(NamedTuple):
    per_second: float
    cpu_ms: float  # of this process, per email


class BareHandler:
    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return "250 OK"


class Command(BaseCommand):
    help = (
        "Email in per second: aiosmtpd bare, the mail gateway storing each email, and end to end to a ticket message "
        "with a real Celery worker. Needs REDIS_URL and a database a worker subprocess can share (Postgres, or an "
        "SQLite file); `make bench-inbound` uses its own Postgres database."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--n", type=int, default=1000, help="emails per measurement (default %(default)s)")
        parser.add_argument(
            "--connections", type=int, default=16, help="concurrent SMTP connections (default %(default)s)"
        )
        parser.add_argument("--concurrency", type=int, default=4, help="worker processes (default %(default)s)")
        parser.add_argument("--timeout", type=float, default=600, help="give up after this (default %(default)s s)")
        parser.add_argument("--keep", action="store_true", help="leave the bench queue and its data in the database")

    def handle(
        self, *args: Any, n: int, connections: int, concurrency: int, timeout: float, keep: bool, **options: Any
    ) -> None:
        if n < 1 or connections < 1 or concurrency < 1:
            raise CommandError("--n, --connections and --concurrency must be at least 1.")
        if not settings.REDIS_URL:
            raise CommandError("bench_inbound needs REDIS_URL: the worker subprocess routes over a real broker.")
        try:
            redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=5).ping()
        except redis.RedisError as exc:
            raise CommandError(f"Redis does not answer at REDIS_URL={settings.REDIS_URL}: {exc}") from None
        worker_database = database_url()
        for leftover in Queue.objects.filter(slug__startswith=SLUG_PREFIX):
            self._cleanup(leftover)
        run_id = uuid.uuid4().hex[:8]
        queue = Queue.objects.create(
            name=f"Bench inbound {run_id}",
            slug=f"{SLUG_PREFIX}{run_id}",
            reply_from_email=f"in-{run_id}@{BENCH_DOMAIN}",
        )
        previous_queue = celery_app.conf.task_default_queue
        try:
            with override_settings(DEBUG=False):  # no query log, as in production
                bare = self._bare(queue=queue, n=n, connections=connections, run_id=run_id, timeout=timeout)
                celery_app.conf.task_default_queue = f"bench-inbound-{run_id}-unread"
                stored = self._stored(queue=queue, n=n, connections=connections, run_id=run_id, timeout=timeout)
                celery_app.conf.task_default_queue = f"bench-inbound-{run_id}"
                worker = worker_start(
                    queue=celery_app.conf.task_default_queue, database_url=worker_database, concurrency=concurrency
                )
                try:
                    end_to_end = self._end_to_end(
                        queue=queue, n=n, connections=connections, run_id=run_id, timeout=timeout
                    )
                finally:
                    worker.stop()
        finally:
            celery_app.conf.task_default_queue = previous_queue
            self._purge(f"bench-inbound-{run_id}-unread")
            if keep:
                self.stdout.write(f"Bench data kept: queue {queue.name!r} (id {queue.pk}).")
            else:
                self._cleanup(queue)
        self.stdout.write(
            f"Clients: {connections} smtplib connections (own process), {n} emails each measurement; "
            f"gateway: {HOST}, one store thread (batches of up to {BATCH_MAX}); "
            f"database {worker_database.split('@')[-1]}"
        )
        self.stdout.write(
            f"inbound, {connections} concurrent connections: aiosmtpd bare {bare.per_second:.1f} msg/s; "
            f"gateway stored {stored.per_second:.1f} msg/s "
            f"(ratio {stored.per_second / bare.per_second:.2f}, target ≥ {TARGET_RATIO}); end to end to a ticket "
            f"message {end_to_end:.1f} msg/s (worker x{concurrency})"
        )
        task_seconds = [float(seconds) for seconds in re.findall(r" succeeded in ([0-9.]+)s", worker.output())]
        if task_seconds:
            self.stdout.write(
                f"worker: {len(task_seconds)} routing tasks (one per stored batch), "
                f"median {statistics.median(task_seconds) * 1000:.0f} ms, max {max(task_seconds) * 1000:.0f} ms"
            )
        self.stdout.write(
            f"server CPU per email: aiosmtpd bare {bare.cpu_ms:.2f} ms, gateway {stored.cpu_ms:.2f} ms "
            f"(the store: per email the header parse and row; per batch one INSERT, COMMIT and routing task publish)"
        )

    # --- the three measurements ---------------------------------------------------------------------------------

    def _load(self, *, port: int, queue: Queue, n: int, connections: int, tag: str, timeout: float) -> Rate:
        """The client load against the server on `port`: its rate, and this process's (the server's) CPU per email."""
        cpu = time.process_time()
        load = load_start(port=port, recipient=queue.reply_from_email, n=n, connections=connections, tag=tag)
        seconds, _ = load.result(timeout=timeout)
        cpu = time.process_time() - cpu
        return Rate(n / seconds, cpu / n * 1000)

    def _bare(self, *, queue: Queue, n: int, connections: int, run_id: str, timeout: float) -> Rate:
        controller = Controller(
            BareHandler(), hostname=HOST, port=free_port(), data_size_limit=settings.INBOUND_MAX_MESSAGE_BYTES
        )
        controller.start()
        try:
            return self._load(port=controller.port, queue=queue, n=n, connections=connections, tag=f"a{run_id}",
                              timeout=timeout)  # fmt: skip
        finally:
            controller.stop()

    def _stored(self, *, queue: Queue, n: int, connections: int, run_id: str, timeout: float) -> Rate:
        gateway = Gateway(host=HOST, port=free_port())
        gateway.start()
        try:
            rate = self._load(port=gateway.port, queue=queue, n=n, connections=connections, tag=f"b{run_id}",
                              timeout=timeout)  # fmt: skip
        finally:
            gateway.stop()
        rows = InboundEmail.objects.filter(queue=queue)
        if rows.count() != n:
            raise CommandError(f"The gateway answered 250 for {n} emails but stored {rows.count()}.")
        rows.delete()  # never routed: their tasks went to a broker queue nobody reads
        return rate

    def _end_to_end(self, *, queue: Queue, n: int, connections: int, run_id: str, timeout: float) -> float:
        gateway = Gateway(host=HOST, port=free_port())
        gateway.start()
        rows = InboundEmail.objects.filter(queue=queue)
        try:
            load = load_start(
                port=gateway.port, recipient=queue.reply_from_email, n=n, connections=connections, tag=f"c{run_id}"
            )
            _, started = load.result(timeout=timeout)
            deadline = time.monotonic() + timeout
            while rows.filter(status=InboundEmail.Status.ROUTED, ticket_message__isnull=False).count() < n:
                if rows.filter(status=InboundEmail.Status.FAILED).exists() or time.monotonic() > deadline:
                    counts = dict(Counter(rows.values_list("status", flat=True)))
                    raise CommandError(f"Not every email became a ticket message: {counts}")
                time.sleep(0.1)
        finally:
            gateway.stop()
        last_routed = rows.aggregate(last=Max("routed_at"))["last"]
        assert last_routed is not None  # noqa: S101 - all N are routed
        return n / (last_routed - datetime.fromtimestamp(started, tz=UTC)).total_seconds()

    # --- cleanup ------------------------------------------------------------------------------------------------

    def _purge(self, broker_queue: str) -> None:
        with celery_app.connection_for_write() as connection:
            BrokerQueue(broker_queue, channel=connection.default_channel).purge()

    @transaction.atomic
    def _cleanup(self, queue: Queue) -> None:
        tickets = Ticket.objects.filter(queue=queue)
        customer_ids = list(tickets.values_list("customer_id", flat=True))
        OutgoingEmail.objects.filter(
            related_type=ContentType.objects.get_for_model(Ticket), related_id__in=tickets.values("pk")
        ).delete()
        InboundEmail.objects.filter(queue=queue).delete()
        tickets.delete()
        Customer.objects.filter(pk__in=customer_ids).delete()
        queue.delete()
        self.stdout.write(f"Bench data deleted (queue {queue.name!r}, {len(customer_ids)} tickets and customers).")
