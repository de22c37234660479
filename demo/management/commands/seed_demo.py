"""`manage.py seed_demo [--tickets N] [--seed S]`: idempotent demo data — the desk (demo.desk), tickets
(demo.tickets) with their SLA targets (demo.sla), then their surveys, responses and follow-ups (demo.surveys), and the
customers' NPS surveys and VIP flags (demo.relationship)."""

from __future__ import annotations

import sys
import time
from argparse import ArgumentParser
from collections import Counter
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.models import Count
from django.utils import timezone
from tqdm import tqdm

from tickets.models import CloseReason, Status
from tickets.sla.counts import sla_counts_rebuild

from ... import desk as demo_desk
from ... import relationship as relationship_demo
from ... import sla as demo_sla
from ... import surveys as surveys_demo
from ... import tickets as tickets_demo


class Command(BaseCommand):
    help = (
        "Create demo data: 3 queues, 6 agents, 50 customers (get-or-create, passwords never reset), an admin in "
        "DEBUG only, tickets topped up to --tickets, and survey invitations, responses and follow-ups for the solved "
        "ones."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--tickets", type=int, default=300, help="target number of demo tickets (default 300)")
        parser.add_argument(
            "--seed", type=int, default=demo_desk.DEFAULT_SEED, help="random seed (default %(default)s)"
        )
        parser.add_argument("--batch", type=int, default=2000, help="tickets per transaction (default 2000)")

    def handle(self, *args: Any, tickets: int, seed: int, batch: int, **options: Any) -> None:
        if tickets < 0 or batch < 1:
            raise CommandError("--tickets must be 0 or more and --batch at least 1.")
        started = time.monotonic()
        now = timezone.now().replace(microsecond=0)
        desk = demo_desk.desk_ensure(seed=seed, with_admin=settings.DEBUG)
        existing = demo_desk.demo_tickets(desk).count()
        if demo_sla.sla_policies_ensure(desk, now=now) and existing:  # tickets seeded before the demo had SLAs
            ids = list(demo_desk.demo_tickets(desk).filter(sla_targets__isnull=True).values_list("pk", flat=True))
            targets = demo_sla.sla_backfill(desk, tickets=ids, now=now)
            sla_counts_rebuild()
            self.stdout.write(f"SLA policies created: {targets} targets computed for {len(ids)} existing tickets.")
        sla_context = demo_sla.SlaContext.of(desk)
        written = tickets_demo.Written(tickets=0, messages=0, events=0)
        with tqdm(total=max(tickets - existing, 0), unit="ticket", disable=None, file=sys.stderr) as bar:
            for start in range(existing, tickets, batch):
                indexes = range(start, min(start + batch, tickets))
                written += tickets_demo.tickets_create(
                    desk, seed=seed, indexes=indexes, now=now, sla_context=sla_context
                )
                bar.update(len(indexes))
        if written.tickets:  # the reports' daily SLA counts, from the targets just written in bulk
            sla_counts_rebuild()
        policy = surveys_demo.demo_policy_ensure()
        surveys = surveys_demo.surveys_create(desk, seed=seed, now=now, policy=policy)
        nps, vips = relationship_demo.relationship_create(desk, seed=seed, now=now)
        if nps or vips:
            self.stdout.write(f"Relationship: {nps} NPS surveys (monthly, six months), {vips} VIP customers.")
        if apps.is_installed("sentiment"):  # the bulk-written messages and comments sent no signal: scored here
            from sentiment.services import texts_score_unscored

            scoring = time.monotonic()
            scored = texts_score_unscored(window=None)
            self.stdout.write(
                f"Sentiment: {scored} customer messages and comments scored in {time.monotonic() - scoring:.1f} s."
            )
        if (written.tickets or surveys.invitations) and connection.vendor == "postgresql":
            # Fresh planner statistics after bulk writes (autovacuum comes later). Not on SQLite: with statistics its
            # planner chose a full scan for the ticket list's search (216 ms instead of ~100 ms at 100k tickets).
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        self._summary(desk, written=written, surveys=surveys, seconds=time.monotonic() - started)
        self.stdout.write(
            f"Surveys go out {policy.delay_minutes} min after a ticket is solved (see /dev/mail/ in DEBUG)."
        )

    def _summary(
        self,
        desk: demo_desk.Desk,
        *,
        written: tickets_demo.Written,
        surveys: surveys_demo.SurveysWritten,
        seconds: float,
    ) -> None:
        out = self.stdout.write
        statuses: Counter[str] = Counter()
        reasons: Counter[str] = Counter()
        for status, reason, count in (
            demo_desk.demo_tickets(desk).order_by().values_list("status", "close_reason").annotate(n=Count("pk"))
        ):
            statuses[status] += count
            reasons[reason] += count
        created = ", ".join(f"{n} {kind}" for kind, n in desk.created.items() if n) or "nothing new"
        out(f"Demo desk (seed {desk.seed}): created {created}; {written.tickets} tickets in {seconds:.1f} s.")
        out(f"  Queues:    {', '.join(dq.queue.name for dq in desk.queues)}")
        out(f"  Agents:    {2 * len(desk.queues)} (one lead per queue)")
        out(f"  Customers: {len(desk.customers)}")
        out(f"  Tickets:   {statuses.total()} — " + ", ".join(f"{s.label.lower()} {statuses[s]}" for s in Status))
        out("  Closed:    " + ", ".join(f"{r.label.lower()} {reasons[r]}" for r in CloseReason))
        if written.tickets:
            out(f"  Written:   {written.tickets} tickets, {written.messages} messages, {written.events} events")
        totals = surveys_demo.demo_surveys_summary(desk)
        out(
            f"  Surveys:   {totals['invitations']} invitations, {totals['emailed']} emailed, "
            f"{totals['responses']} responses, {totals['followups']} follow-ups ({totals['followups_open']} open)"
        )
        if surveys.invitations:
            out(
                f"  Written:   {surveys.invitations} invitations, {surveys.responses} responses, "
                f"{surveys.followups} follow-ups"
            )
        out(f"Log in (password {demo_desk.DEMO_PASSWORD!r}, set when the user was created, never reset):")
        for dq in desk.queues:
            out(f"  {dq.lead.get_username():<16} lead of {dq.queue.name}")
            out(f"  {dq.agent.get_username():<16} agent of {dq.queue.name}")
        if desk.admin_created is None:
            out("  No admin user: DEBUG is off (create one with `manage.py createsuperuser`).")
        else:
            out(
                f"  {demo_desk.ADMIN_USERNAME:<16} admin, password {demo_desk.ADMIN_PASSWORD!r} "
                "(set when created, never reset)"
            )
