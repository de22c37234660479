"""`manage.py bench_surveys --n 2000`: survey emails end to end through the outbox and a real Celery worker, against
plain smtplib (issue 4's benchmark; a report, not a test).

Both paths deliver to one local SMTP sink (aiosmtpd, in a process of its own):
- baseline: N small messages with `smtplib.SMTP(host, port)`, a new connection per message;
- desk: N tickets of a fresh bench queue (policy: delay 0, no throttle) closed through `ticket_close`, so the close
  hook schedules N invitations (setup, not timed). Then a `celery worker --concurrency=2` subprocess on a broker queue
  of its own, and this process does beat's work every --interval seconds: `surveys.tasks.send_due_invitations`
  (invitation → OutgoingEmail) and `outbox.tasks.sweep_outbox` (claim, then publish send tasks over Redis on commit).
  Timed from the first sweep to the last `sent_at` of the N rows; also printed from the start of the first beat round,
  whose send_due_invitations (1000 invitations) runs before that first sweep.
It then checks that every row is sent after one attempt and that the sink got each row's Message-ID exactly once.
The bench data (queue, policy, customers, tickets, invitations, tokens, emails) is deleted afterwards unless --keep.
"""

from __future__ import annotations

import re
import smtplib
import statistics
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import redis
from celery import current_app as celery_app
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.db.models import Max, Min, QuerySet
from django.test.utils import override_settings
from django.utils import timezone

from common.models import AccessToken
from outbox.models import OutgoingEmail
from outbox.tasks import sweep_outbox
from surveys.models import SurveyInvitation, SurveyPolicy
from surveys.tasks import send_due_invitations
from tickets.models import CloseReason, Customer, Queue, Status, Ticket, TicketEvent
from tickets.services import ticket_close

from ...processes import HOST, Worker, database_url, sink_start, worker_start

TARGET_RATIO = 0.5
BASELINE_DOMAIN = "baseline.bench.invalid"


@dataclass
class DeskRun:
    started: datetime  # start of the first beat round
    first_sweep: datetime | None = None
    rounds: int = 0
    invitations_seconds: float = 0.0
    sweep_seconds: float = 0.0


class Command(BaseCommand):
    help = (
        "Survey emails per second end to end (close → invitation → outbox → Celery worker x2 → SMTP) against plain "
        "smtplib with a new connection per message, both into a local aiosmtpd sink. Needs REDIS_URL (a real broker), "
        "a database a worker subprocess can share (Postgres, or an SQLite file) with no other due survey invitations "
        "or unsent emails, and the dev dependencies (aiosmtpd: pip install -r requirements-dev.txt). Exits 0 unless "
        "it cannot run or the emails were not delivered exactly once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--n", type=int, default=2000, help="messages per path (default %(default)s)")
        parser.add_argument(
            "--interval", type=float, default=0.5, help="seconds between beat rounds (default %(default)s)"
        )
        parser.add_argument("--concurrency", type=int, default=2, help="worker processes (default %(default)s)")
        parser.add_argument(
            "--timeout", type=float, default=300, help="give up the desk path after this (default %(default)s s)"
        )
        parser.add_argument("--keep", action="store_true", help="leave the bench queue and its data in the database")

    def handle(
        self, *args: Any, n: int, interval: float, concurrency: int, timeout: float, keep: bool, **options: Any
    ) -> None:
        if n < 1 or interval <= 0 or concurrency < 1:
            raise CommandError("--n and --concurrency must be at least 1, --interval above 0.")
        if not settings.REDIS_URL:
            raise CommandError(
                "bench_surveys needs REDIS_URL (e.g. redis://127.0.0.1:6379/0): the worker subprocess consumes the "
                "send tasks over a real broker."
            )
        try:
            redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=5).ping()
        except redis.RedisError as exc:
            raise CommandError(f"Redis does not answer at REDIS_URL={settings.REDIS_URL}: {exc}") from None
        try:
            import aiosmtpd  # noqa: F401
        except ImportError:
            raise CommandError("bench_surveys needs aiosmtpd: pip install -r requirements-dev.txt") from None
        worker_database = database_url()
        self._refuse_other_due_work(timeout=timeout)

        run_id = uuid.uuid4().hex[:8]
        celery_queue = f"bench-surveys-{run_id}"
        sink = sink_start()
        queue: Queue | None = None
        try:
            baseline_seconds = self._baseline(port=sink.port, n=n, run_id=run_id)
            with override_settings(DEBUG=False):  # no query log, as in production
                queue = self._setup(n=n, run_id=run_id)
                self._vacuum()
                worker = worker_start(
                    queue=celery_queue, database_url=worker_database, port=sink.port, concurrency=concurrency
                )
                previous_queue = celery_app.conf.task_default_queue
                celery_app.conf.task_default_queue = celery_queue  # sweep_outbox publishes to our worker only
                try:
                    run = self._beat_until_sent(queue=queue, n=n, interval=interval, timeout=timeout)
                finally:
                    celery_app.conf.task_default_queue = previous_queue
                    worker.stop()
            received = sink.stop()
            self._report(
                queue=queue,
                n=n,
                run_id=run_id,
                baseline_seconds=baseline_seconds,
                run=run,
                received=received,
                worker=worker,
                interval=interval,
                concurrency=concurrency,
            )
        finally:
            if sink.process.poll() is None:
                sink.process.kill()
                sink.process.wait()
            if queue is not None:
                if keep:
                    self.stdout.write(f"Bench data kept: queue {queue.name!r} (id {queue.pk}).")
                else:
                    self._cleanup(queue)

    # --- preconditions and setup --------------------------------------------------------------------------------

    def _refuse_other_due_work(self, *, timeout: float) -> None:
        """The beat work below is the real one: it would also email anything else that is due. Refuse instead."""
        horizon = timezone.now() + timedelta(seconds=timeout + 600)
        invitations = SurveyInvitation.objects.filter(
            status=SurveyInvitation.Status.SCHEDULED, send_after__lte=horizon
        ).count()
        emails = OutgoingEmail.objects.filter(
            status__in=[OutgoingEmail.Status.QUEUED, OutgoingEmail.Status.SENDING]
        ).count()
        if invitations or emails:
            raise CommandError(
                f"This database has {invitations} survey invitations due soon and {emails} unsent emails that are "
                "not the bench's; the beat work of the bench would send them too. Use a database of its own "
                "(`make bench-surveys` uses helpdesk_bench_surveys)."
            )

    def _baseline(self, *, port: int, n: int, run_id: str) -> float:
        sender, recipient = "bench@example.org", "customer@example.org"
        messages = [
            (
                f"From: {sender}\r\nTo: {recipient}\r\nSubject: Baseline {i}\r\n"
                f"Message-ID: <{i}.{run_id}@{BASELINE_DOMAIN}>\r\n\r\nHow did we do? Baseline message {i}.\r\n"
            )
            for i in range(n)
        ]
        start = time.perf_counter()
        for message in messages:
            with smtplib.SMTP(HOST, port) as client:
                client.sendmail(sender, [recipient], message)
        return time.perf_counter() - start

    @transaction.atomic
    def _setup(self, *, n: int, run_id: str) -> Queue:
        """N closed tickets of a fresh queue, each closed by ticket_close, so each has a scheduled invitation."""
        queue = Queue.objects.create(
            name=f"Bench surveys {run_id}", slug=f"bench-surveys-{run_id}", reply_from_email="bench@example.org"
        )
        SurveyPolicy.objects.create(queue=queue, delay_minutes=0, throttle_days=0)
        customers = Customer.objects.bulk_create(
            Customer(email=f"customer{i}@{run_id}.bench.example.org", name=f"Bench Customer{i}") for i in range(n)
        )
        now = timezone.now()
        tickets = Ticket.objects.bulk_create(
            Ticket(
                subject=f"Bench ticket {i}",
                queue=queue,
                customer=customer,
                status=Status.OPEN,
                created_at=now,
                updated_at=now,
                status_changed_at=now,
            )
            for i, customer in enumerate(customers)
        )
        TicketEvent.objects.bulk_create(
            TicketEvent(ticket=ticket, kind=TicketEvent.Kind.CREATED, new_value=ticket.reference, at=now)
            for ticket in tickets
        )
        for ticket in tickets:
            ticket_close(ticket_id=ticket.pk, reason=CloseReason.SOLVED, by=None)
        scheduled = SurveyInvitation.objects.filter(queue=queue, status=SurveyInvitation.Status.SCHEDULED).count()
        if scheduled != n:
            raise CommandError(f"Closing {n} tickets scheduled {scheduled} invitations.")
        return queue

    def _vacuum(self) -> None:
        """Postgres: dead rows of earlier runs out of the tables the timed path reads (a server may run without
        autovacuum, and then every run leaves ~3 dead versions per email for the sweep's index scans to skip)."""
        if connection.vendor != "postgresql":
            return
        tables = [model._meta.db_table for model in (OutgoingEmail, SurveyInvitation, AccessToken)]
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {', '.join(connection.ops.quote_name(t) for t in tables)}")

    # --- the timed desk path ------------------------------------------------------------------------------------

    def _bench_emails(self, queue: Queue) -> QuerySet[OutgoingEmail]:
        return OutgoingEmail.objects.filter(
            related_type=ContentType.objects.get_for_model(SurveyInvitation),
            related_id__in=SurveyInvitation.objects.filter(queue=queue).values("pk"),
        )

    def _beat_until_sent(self, *, queue: Queue, n: int, interval: float, timeout: float) -> DeskRun:
        """Beat's two tasks, one after the other, every `interval` s until the N emails are sent."""
        emails = self._bench_emails(queue)
        run = DeskRun(started=timezone.now())
        deadline = time.monotonic() + timeout
        while True:
            tick = time.monotonic()
            send_due_invitations()
            swept = time.monotonic()
            run.invitations_seconds += swept - tick
            run.first_sweep = run.first_sweep or timezone.now()
            sweep_outbox()
            run.sweep_seconds += time.monotonic() - swept
            run.rounds += 1
            if emails.filter(status=OutgoingEmail.Status.SENT).count() >= n:
                return run
            if time.monotonic() > deadline:
                counts = dict(Counter(emails.values_list("status", flat=True)))
                raise CommandError(f"Not all {n} emails were sent within {timeout:.0f} s: {counts}")
            time.sleep(max(0.0, interval - (time.monotonic() - tick)))

    # --- verification and report --------------------------------------------------------------------------------

    def _report(
        self,
        *,
        queue: Queue,
        n: int,
        run_id: str,
        baseline_seconds: float,
        run: DeskRun,
        received: list[str],
        worker: Worker,
        interval: float,
        concurrency: int,
    ) -> None:
        emails = self._bench_emails(queue)
        rows = list(emails.values_list("message_id", "status", "attempts"))
        span = emails.aggregate(first=Min("sent_at"), last=Max("sent_at"))
        first_sent, last_sent = span["first"], span["last"]
        assert first_sent and last_sent and run.first_sweep  # noqa: S101 - all rows are sent by now
        desk_seconds = (last_sent - run.first_sweep).total_seconds()
        round_seconds = (last_sent - run.started).total_seconds()
        baseline_ids = [i for i in received if i.endswith(f".{run_id}@{BASELINE_DOMAIN}>")]
        desk_ids = Counter(i for i in received if not i.endswith(f"@{BASELINE_DOMAIN}>"))
        row_ids = {message_id for message_id, _, _ in rows}
        duplicates = sum(count - 1 for count in desk_ids.values() if count > 1)
        not_sent = sum(1 for _, status, _ in rows if status != OutgoingEmail.Status.SENT)
        retried = sum(1 for _, _, attempts in rows if attempts != 1)
        task_seconds = [float(s) for s in re.findall(r" succeeded in ([0-9.]+)s", worker.output())]

        baseline_rate, desk_rate, round_rate = n / baseline_seconds, n / desk_seconds, n / round_seconds
        self.stdout.write(
            f"Database: {connection.vendor} {connection.settings_dict['NAME']}; broker Redis; SMTP sink aiosmtpd on "
            f"{HOST} (own process); outbox batch {settings.OUTBOX_BATCH_SIZE}, beat round every {interval} s"
        )
        self.stdout.write(
            f"plain smtplib (new connection per message): {baseline_rate:.0f} msg/s  "
            f"({n} messages in {baseline_seconds:.2f} s)"
        )
        self.stdout.write(
            f"desk end to end (close → invitation → outbox → worker x{concurrency} → SMTP): {desk_rate:.0f} emails/s  "
            f"({n} emails in {desk_seconds:.2f} s from the first sweep to the last sent)"
        )
        self.stdout.write(f"ratio: {desk_rate / baseline_rate:.2f} (target ≥ {TARGET_RATIO})")
        self.stdout.write(
            f"from the start of the first beat round (its send_due_invitations came before the first sweep): "
            f"{round_rate:.0f} emails/s in {round_seconds:.2f} s, ratio {round_rate / baseline_rate:.2f}"
        )
        self.stdout.write(
            f"beat work in this process: {run.rounds} rounds, {run.invitations_seconds:.2f} s in "
            f"send_due_invitations, {run.sweep_seconds:.2f} s in sweep_outbox; first email sent "
            f"{(first_sent - run.started).total_seconds():.2f} s after the start"
        )
        if task_seconds:
            self.stdout.write(
                f"worker: {len(task_seconds)} send tasks, median {statistics.median(task_seconds) * 1000:.0f} ms, "
                f"max {max(task_seconds) * 1000:.0f} ms (batches of up to {settings.OUTBOX_BATCH_SIZE})"
            )
        self.stdout.write(
            f"counts: {len(rows)} invitation emails, {len(rows) - not_sent} sent, {retried} with more than one "
            f"attempt; sink received {len(baseline_ids)} baseline + {sum(desk_ids.values())} desk messages "
            f"({len(desk_ids)} distinct Message-IDs, {duplicates} duplicates, "
            f"{len(row_ids - set(desk_ids))} rows missing)"
        )
        problems = []
        if len(baseline_ids) != n:
            problems.append(f"the sink received {len(baseline_ids)} baseline messages, not {n}")
        if len(rows) != n or not_sent or retried:
            problems.append(f"{len(rows)} rows, {not_sent} not sent, {retried} not sent after exactly one attempt")
        if sum(desk_ids.values()) != n or duplicates or set(desk_ids) != row_ids:
            problems.append("the sink did not receive each row's Message-ID exactly once")
        if problems:
            raise CommandError("; ".join(problems))

    @transaction.atomic
    def _cleanup(self, queue: Queue) -> None:
        invitation_ids = SurveyInvitation.objects.filter(queue=queue).values("pk")
        invitation_type = ContentType.objects.get_for_model(SurveyInvitation)
        AccessToken.objects.filter(target_type=invitation_type, target_id__in=invitation_ids).delete()
        customer_ids = list(Ticket.objects.filter(queue=queue).values_list("customer_id", flat=True))
        customer_type = ContentType.objects.get_for_model(Customer)  # the emails' unsubscribe tokens
        AccessToken.objects.filter(target_type=customer_type, target_id__in=customer_ids).delete()
        self._bench_emails(queue).delete()
        SurveyInvitation.objects.filter(queue=queue).delete()
        Ticket.objects.filter(queue=queue).delete()
        Customer.objects.filter(pk__in=customer_ids).delete()
        queue.delete()  # and its survey policy
        self.stdout.write(f"Bench data deleted (queue {queue.name!r}, {len(customer_ids)} tickets and customers).")
