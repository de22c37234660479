"""Team dashboard for leads (their queues) and admins (all), and the CSV exports of tickets and responses."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from common.users import display_name
from tickets.models import SlaTarget, Ticket
from tickets.selectors import tickets_visible_to
from tickets.sla.selectors import EMPTY as NO_SLA
from tickets.sla.selectors import KINDS as SLA_KINDS

from ..extensions import team_panels
from ..models import FollowUp
from ..selectors import (
    Nps,
    Recovery,
    invitations_visible_to,
    min_feedback_sample,
    nps_by_month,
    nps_by_queue,
    nps_surveys_visible_to,
    nps_total,
    queues_led_by,
    recovery_by,
    recovery_cells,
    responses_for_export,
    resurveys_visible_to,
    team_dashboard,
    user_is_lead,
    weekly_feedback,
)
from .feedback import TREND_WEEKS, TREND_WINDOW, comments_context, figures_url, period_from, weekly_trend

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _require_lead(request: HttpRequest) -> None:
    """Leads of a queue and admins; anyone else gets 404 (the page is not theirs to know about)."""
    if not user_is_lead(request.user):
        raise Http404
    request.user._surveys_is_team_lead = True  # type: ignore[union-attr]  # the nav's is_team_lead: no 2nd query


@require_GET
@login_required
def team(request: HttpRequest) -> HttpResponse:
    # The led queues are read once: they say whether the user is a lead (the page's permission) and which queues
    # the dashboard shows — one query where there were two, so the SLA figures add none to the page.
    queues = list(queues_led_by(request.user).order_by("name"))
    if not (queues or request.user.is_superuser):
        raise Http404
    request.user._surveys_is_team_lead = True  # type: ignore[union-attr]  # the nav's is_team_lead: no 2nd query
    form, period = period_from(request)
    dashboard = team_dashboard(user=request.user, start=period.start, end=period.end, queues=queues)
    invitations = invitations_visible_to(request.user).filter(queue_id__in=queues_led_by(request.user).values("pk"))
    history = weekly_feedback(invitations=invitations, weeks=TREND_WEEKS + TREND_WINDOW - 1)
    context: dict[str, Any] = {
        "form": form,
        "period": period,
        "dashboard": dashboard,
        "queue_rows": [
            (queue, dashboard.queue_feedback.get(queue.pk), dashboard.queue_sla.get(queue.pk, NO_SLA))
            for queue in dashboard.queues
        ],
        **weekly_trend(
            history,
            title="Team CSAT % satisfied over 8 weeks (line, its 95% interval as a band) and responses per week "
            "(bars), last 12 weeks",
        ),
        "export_query": request.GET.urlencode(),
        "panels": [
            render_to_string(panel.template, panel.context(request.user, dashboard.queues, period), request=request)
            for panel in team_panels()
        ],
        "figures_url": figures_url(request, team=1),
        "comments_url": f"{reverse('surveys:team-comments')}?{request.GET.urlencode()}",
    }
    return render(request, "surveys/agent/team.html", context, status=400 if form.errors else 200)


@require_GET
@login_required
def team_comments(request: HttpRequest) -> HttpResponse:
    """The team dashboard's latest comments (its partial: the page keeps its query budget), with the comment
    filters, in the dashboard's period."""
    _require_lead(request)
    _, period = period_from(request)
    invitations = invitations_visible_to(request.user).filter(queue_id__in=queues_led_by(request.user).values("pk"))
    return render(
        request,
        "surveys/agent/_comments.html",
        comments_context(request=request, invitations=invitations, period=period),
    )


@require_GET
@login_required
def team_recovery(request: HttpRequest) -> HttpResponse:
    """The recovery card's partial (the dashboard loads it, keeping its own query budget): the recovery rate and the
    re-survey response rate of the led queues, by queue, agent and root cause, in the dashboard's period."""
    queues = {queue.pk: queue for queue in queues_led_by(request.user).order_by("name")}
    if not queues:
        raise Http404
    _, period = period_from(request)
    cells = recovery_cells(resurveys=resurveys_visible_to(request.user), start=period.start, end=period.end)
    agents = User.objects.in_bulk({agent_id for _, agent_id, _ in cells if agent_id is not None})
    causes = dict(FollowUp.RootCause.choices)

    def rows(key: Callable[[Any], Any], label: Callable[[Any], str]) -> list[tuple[str, Recovery]]:
        return sorted(((label(k), r) for k, r in recovery_by(cells, key).items()), key=lambda row: row[0].lower())

    context = {
        "period": period,
        "min_sample": min_feedback_sample(),
        "total": recovery_by(cells, lambda key: ()).get((), Recovery()),
        "by_queue": rows(lambda key: key[0], lambda pk: queues[pk].name if pk in queues else "—"),
        "by_agent": rows(
            lambda key: key[1], lambda pk: display_name(agents.get(pk)) if pk in agents else "Unassigned or former"
        ),
        "by_cause": rows(lambda key: key[2], lambda cause: causes.get(cause, "—")),
    }
    return render(request, "surveys/agent/_recovery.html", context)


@require_GET
@login_required
def team_nps(request: HttpRequest) -> HttpResponse:
    """The NPS card's partial (the dashboard loads it, keeping its own query budget): the NPS of the led queues'
    answers in the dashboard's period, by queue (the survey's queue snapshot), and per month over the last 6 months;
    each with its n and 95% interval. Never per agent: the relationship is with the company."""
    queues = {queue.pk: queue for queue in queues_led_by(request.user).order_by("name")}
    if not queues:
        raise Http404
    _, period = period_from(request)
    surveys = nps_surveys_visible_to(request.user)
    by_queue = nps_by_queue(surveys=surveys, start=period.start, end=period.end)
    context = {
        "period": period,
        "min_sample": min_feedback_sample(),
        "total": nps_total(by_queue),
        "by_queue": [(queue.name, by_queue.get(pk, Nps())) for pk, queue in queues.items() if pk in by_queue],
        "by_month": nps_by_month(surveys=surveys, now=timezone.now()),
    }
    return render(request, "surveys/agent/_nps.html", context)


# --- CSV exports ------------------------------------------------------------------------------------------------


def neutralise(value: object) -> object:
    """A text cell starting with = + - @ (or tab/CR) would run as a formula in a spreadsheet: prefix a quote."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_response(filename: str, header: list[str], rows: Iterable[list[object]]) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow([neutralise(cell) for cell in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _iso(value: Any) -> str:
    return value.isoformat() if value is not None else ""


# The export's SLA columns: per target kind, how many of the ticket's targets were met and breached (excluded ones —
# spam, duplicates — in neither), whenever they settled.
_SETTLED = (SlaTarget.Result.MET.value, SlaTarget.Result.BREACHED.value)
_SETTLED_TARGETS = SlaTarget.objects.filter(result__in=_SETTLED).only("ticket_id", "kind", "result")


@require_GET
@login_required
def export_tickets(request: HttpRequest) -> StreamingHttpResponse:
    """Tickets of the led queues created or closed in the period — only rows the user can see."""
    _require_lead(request)
    _, period = period_from(request)
    tickets = (
        tickets_visible_to(request.user)
        .filter(queue_id__in=queues_led_by(request.user).values("pk"))
        .filter(created_at__lt=period.end)
        .exclude(closed_at__lt=period.start)
        .select_related("queue", "customer", "assignee")
        .prefetch_related(Prefetch("sla_targets", queryset=_SETTLED_TARGETS, to_attr="settled_sla"))
        .order_by("pk")
    )
    header = [
        "reference",
        "subject",
        "queue",
        "customer",
        "customer_email",
        "assignee",
        "status",
        "priority",
        "close_reason",
        "created_at",
        "closed_at",
        "first_reply_seconds",
        "resolution_seconds",
        "reopen_count",
        *(f"sla_{kind}_{result}" for kind, _ in SLA_KINDS for result in _SETTLED),
    ]

    def rows() -> Iterator[list[object]]:
        ticket: Ticket
        for ticket in tickets.iterator(chunk_size=500):  # one query for the SLA targets of 500 tickets
            settled = Counter((target.kind, target.result) for target in ticket.settled_sla)
            yield [
                ticket.reference,
                ticket.subject,
                ticket.queue.name,
                ticket.customer.name,
                ticket.customer.email,
                display_name(ticket.assignee),
                ticket.status,
                ticket.priority,
                ticket.close_reason,
                _iso(ticket.created_at),
                _iso(ticket.closed_at),
                ticket.first_reply_seconds,
                ticket.resolution_seconds,
                ticket.reopen_count,
                *(settled[kind, result] for kind, _ in SLA_KINDS for result in _SETTLED),
            ]

    return _csv_response("tickets.csv", header, rows())


@require_GET
@login_required
def export_responses(request: HttpRequest) -> StreamingHttpResponse:
    """Survey responses of the led queues, answered in the period — only rows the user can see."""
    _require_lead(request)
    _, period = period_from(request)
    responses = responses_for_export(user=request.user).filter(
        invitation__queue_id__in=queues_led_by(request.user).values("pk"),
        answered_at__gte=period.start,
        answered_at__lt=period.end,
    )
    header = [
        "ticket",
        "queue",
        "agent",
        "customer",
        "customer_email",
        "csat",
        "ces",
        "comment",
        "answered_at",
        "updated_at",
        "flagged_automated",
        "followup_root_cause",
        "resurvey_score",
        "resurvey_answered_at",
    ]

    def rows() -> Iterator[list[object]]:
        for response in responses.iterator(chunk_size=500):
            invitation = response.invitation
            followup = getattr(invitation, "followup", None)
            resurvey = getattr(followup, "resurvey", None) if followup else None
            counted = resurvey is not None and resurvey.counts
            yield [
                invitation.ticket.reference,
                invitation.queue.name,
                display_name(invitation.agent),
                invitation.customer.name,
                invitation.customer.email,
                response.csat,
                response.ces,
                response.comment,
                _iso(response.answered_at),
                _iso(response.updated_at),
                response.flagged_automated,
                followup.root_cause if followup else "",
                resurvey.score if counted else "",  # type: ignore[union-attr]
                _iso(resurvey.answered_at) if counted else "",  # type: ignore[union-attr]
            ]

    return _csv_response("responses.csv", header, rows())
