"""`manage.py bench_pages`: time the agent pages against the current database (a report, not a test).

Run after `seed_demo --tickets 100000` (see `make bench`). Each page is requested by a demo agent (the team dashboard
by a demo lead) through django.test.Client with DEBUG off: some warm-up requests, then --runs timed ones. The whole
table is measured --rounds times (3 by default) and each figure printed is the median of the rounds, so one noisy
round does not move it. The table gives the median and p90 wall time of the whole request (middleware, views,
queries, template rendering), the number of queries of one request, and the target.
"""

from __future__ import annotations

import logging
import statistics
import time
import warnings
from argparse import ArgumentParser
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import NoReverseMatch, reverse

from surveys.models import SurveyInvitation, SurveyResponse
from tickets.models import Message, Status, Ticket
from tickets.selectors import list_view_choices, tickets_visible_to

from ...content import QUEUES, QueueSpec

MAX_QUERIES = 10
SLA_SOON_VIEW = "sla_soon"  # "Breaching in the next hour"
HOST = "127.0.0.1"


@dataclass(frozen=True)
class Page:
    name: str
    url: str
    user: User
    target_ms: float


@dataclass(frozen=True)
class Result:
    page: Page
    queries: list[tuple[str, str]]  # (sql, seconds) of one request
    size: int

    median: float
    p90: float

    @classmethod
    def of(cls, *, page: Page, times_ms: list[float], queries: list[tuple[str, str]], size: int) -> Result:
        p90 = statistics.quantiles(times_ms, n=10, method="inclusive")[-1] if len(times_ms) > 1 else times_ms[0]
        return cls(page=page, queries=queries, size=size, median=statistics.median(times_ms), p90=p90)

    @classmethod
    def median_of(cls, rounds: list[Result]) -> Result:
        """One page's figures over several rounds: the median of their medians and of their p90s."""
        first = rounds[0]
        return cls(
            page=first.page,
            queries=first.queries,
            size=first.size,
            median=statistics.median(result.median for result in rounds),
            p90=statistics.median(result.p90 for result in rounds),
        )

    @property
    def ok(self) -> bool:
        return self.median <= self.page.target_ms and len(self.queries) <= MAX_QUERIES


def _default_queue() -> QueueSpec:
    """The biggest demo queue: the worst case for its agent and lead."""
    return max(QUEUES, key=lambda spec: spec.weight)


class Command(BaseCommand):
    help = (
        "Time the ticket list (incl. search, Poor ratings and, once the list has it, Breaching in the next hour), "
        "ticket detail, My feedback and the team dashboard "
        "(median and p90 of --runs requests, median of --rounds rounds; query counts) against the current "
        "DATABASE_URL and print a table with the targets. Always exits 0."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        spec = _default_queue()
        parser.add_argument("--runs", type=int, default=15, help="timed requests per page (default %(default)s)")
        parser.add_argument("--rounds", type=int, default=3, help="times the table is measured (default %(default)s)")
        parser.add_argument("--warmup", type=int, default=2, help="untimed requests first (default %(default)s)")
        parser.add_argument("--agent", default=spec.agents[1][0], help="agent username (default %(default)s)")
        parser.add_argument("--lead", default=spec.agents[0][0], help="lead username (default %(default)s)")
        parser.add_argument("--search", default="webhook", help="search term of the list view (default %(default)s)")
        parser.add_argument("--show-queries", action="store_true", help="print each page's SQL with its time")

    def handle(
        self,
        *args: Any,
        runs: int,
        rounds: int,
        warmup: int,
        agent: str,
        lead: str,
        search: str,
        show_queries: bool,
        **options: Any,
    ) -> None:
        if runs < 1 or warmup < 1 or rounds < 1:
            raise CommandError("--runs, --rounds and --warmup must be at least 1.")
        logging.getLogger("axes").setLevel(logging.WARNING)  # one INFO line per force_login otherwise
        warnings.filterwarnings("ignore", message="No directory at")  # whitenoise: no collectstatic for a bench
        agent_user, lead_user = self._user(agent), self._user(lead)
        pages = self._pages(agent_user, lead_user, search)
        self._describe()
        # DEBUG off as in production (no debug toolbar-like overhead); the test client's host is accepted.
        with override_settings(DEBUG=False, ALLOWED_HOSTS=[HOST, "testserver", "localhost"]):
            measured = []
            for number in range(1, rounds + 1):
                measured.append([self._measure(page, runs=runs, warmup=warmup) for page in pages])
                medians = ", ".join(f"{result.median:.1f}" for result in measured[-1])
                self.stdout.write(f"round {number}/{rounds}: medians (ms) {medians}")
        results = [Result.median_of(list(round_results)) for round_results in zip(*measured, strict=True)]
        self._table(results, runs=runs, warmup=warmup, rounds=rounds)
        if show_queries:
            for result in results:
                self.stdout.write(f"\n{result.page.name} ({len(result.queries)} queries):")
                for sql, seconds in result.queries:
                    self.stdout.write(f"  {float(seconds) * 1000:7.2f} ms  {sql}")

    def _user(self, username: str) -> User:
        try:
            return User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"No user {username!r}: run `manage.py seed_demo --tickets 100000` first.") from None

    def _pages(self, agent: User, lead: User, search: str) -> list[Page]:
        ticket = (
            tickets_visible_to(agent)
            .filter(status=Status.CLOSED, survey_rating__csat__isnull=False)
            .order_by("-closed_at", "-id")
            .first()
        )
        if ticket is None:
            raise CommandError(f"{agent.username} sees no closed, rated ticket: run `manage.py seed_demo` first.")
        self._ticket = ticket
        tickets_url = reverse("tickets:list")
        # The SLA view (issue 12), once the list has it: open tickets due within the hour, nearest first.
        sla_soon = [Page("Ticket list (Breaching in the next hour)", f"{tickets_url}?view={SLA_SOON_VIEW}", agent, 25)]
        return [
            Page("Ticket list (My open tickets)", tickets_url, agent, 25),
            Page(
                f"Ticket list (Open in my queues, search {search!r})",
                f"{tickets_url}?{urlencode({'view': 'queues', 'q': search})}",
                agent,
                25,
            ),
            Page("Ticket list (Poor ratings)", f"{tickets_url}?view=poor", agent, 25),
            *(sla_soon if SLA_SOON_VIEW in list_view_choices() else []),
            Page(f"Ticket detail ({ticket.reference}, closed)", reverse("tickets:detail", args=[ticket.pk]), agent, 25),
            Page("My feedback (90 days)", f"{reverse('surveys:my-feedback')}?period=90", agent, 50),
            Page("Team dashboard (90 days)", f"{reverse('surveys:team')}?period=90", lead, 50),
            *self._partials(agent, lead, ticket),
        ]

    @staticmethod
    def _partials(agent: User, lead: User, ticket: Ticket) -> list[Page]:
        """The cards the ticket page and the team dashboard load by htmx after the page (each its own request), of
        the apps installed: a person waits for them too."""
        cards = [
            ("  card: Customer history", "customers:history", [ticket.pk], "", agent),
            ("  card: My feedback figures", "surveys:feedback-figures", [], "?me=1&period=90", agent),
            ("  card: Team recovery", "surveys:team-recovery", [], "?period=90", lead),
            ("  card: Team NPS", "surveys:team-nps", [], "?period=90", lead),
            ("  card: Team live sentiment", "sentiment:live", [], "", lead),
        ]
        pages = []
        for name, url_name, args, query, user in cards:
            try:
                pages.append(Page(name, reverse(url_name, args=args) + query, user, 25))
            except NoReverseMatch:  # its app is not installed (or not yet written, in an older checkout)
                continue
        return pages

    def _describe(self) -> None:
        ticket = self._ticket
        settings_dict = connection.settings_dict
        self.stdout.write(
            f"Database: {connection.vendor} {settings_dict['NAME']} — {Ticket.objects.count()} tickets, "
            f"{Message.objects.count()} messages, {SurveyInvitation.objects.count()} survey invitations, "
            f"{SurveyResponse.objects.count()} responses"
        )
        self.stdout.write(
            f"Detail page: {ticket.reference} with {Message.objects.filter(ticket=ticket).count()} messages."
        )

    def _measure(self, page: Page, *, runs: int, warmup: int) -> Result:
        client = Client(SERVER_NAME=HOST, HTTP_HOST=HOST)
        client.force_login(page.user)
        for _ in range(warmup - 1):
            self._get(client, page)
        with CaptureQueriesContext(connection) as captured:  # the last warm-up counts the queries
            size = len(self._get(client, page))
        queries = [(query["sql"], query["time"]) for query in captured.captured_queries]
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            self._get(client, page)
            times.append((time.perf_counter() - started) * 1000)
        return Result.of(page=page, times_ms=times, queries=queries, size=size)

    def _get(self, client: Client, page: Page) -> bytes:
        response = client.get(page.url)
        if response.status_code != 200:
            raise CommandError(f"{page.name}: {page.url} answered {response.status_code}.")
        return response.content

    def _table(self, results: list[Result], *, runs: int, warmup: int, rounds: int) -> None:
        out = self.stdout.write
        width = max(len(result.page.name) for result in results)
        header = (
            f"{'page':<{width}}  {'median ms':>9}  {'p90 ms':>7}  {'queries':>7}  {'target ms':>9}  "
            f"{'median/target':>13}  result"
        )
        out(
            f"\nMedian of {rounds} rounds of {runs} timed requests per page (after {warmup} warm-up); "
            f"target ≤ {MAX_QUERIES} queries per page."
        )
        out(header)
        out("-" * len(header))
        for result in results:
            verdict = "OK" if result.ok else "OVER"
            if not result.ok and len(result.queries) > MAX_QUERIES:
                verdict += " (queries)"
            out(
                f"{result.page.name:<{width}}  {result.median:9.1f}  {result.p90:7.1f}  {len(result.queries):7d}  "
                f"{result.page.target_ms:9.0f}  {result.median / result.page.target_ms:13.2f}  {verdict}"
            )
        over = [result.page.name for result in results if not result.ok]
        if over:
            out(self.style.WARNING(f"Over target: {', '.join(over)}"))
        else:
            out(self.style.SUCCESS("All pages within target."))
