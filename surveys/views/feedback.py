"""My feedback (the agent's own ratings, by the invitation's agent snapshot) and a lead's view of a team member's."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET

from common.users import UserLike, signed_in_user

from ..charts import TrendPoint, distribution_chart, trend_chart
from ..extensions import CommentFilter, comment_filters, feedback_figures
from ..forms import Period, PeriodForm
from ..intervals import wilson
from ..models import SurveyInvitation, SurveyResponse
from ..selectors import (
    WeekPoint,
    agent_feedback_invitations,
    agent_sla_achievement,
    ces_difference,
    csat_difference,
    feedback_stats_with_distributions,
    invitations_visible_to,
    latest_comments,
    queues_led_by,
    team_agents_visible_to,
    weekly_feedback,
)

TREND_WEEKS, TREND_WINDOW = 12, 8


def trend_points(weeks: list[WeekPoint]) -> list[TrendPoint]:
    """Bars: responses per week. Line: CSAT % satisfied over the TREND_WINDOW weeks ending that week (one agent's
    week rarely holds the minimum sample on its own), drawn only where those weeks hold the minimum sample. `weeks`
    has TREND_WINDOW - 1 extra weeks of history before the TREND_WEEKS shown. The line's band: its 95% interval."""
    points = []
    for end in range(TREND_WINDOW - 1, len(weeks)):
        window = [w.stats for w in weeks[end - TREND_WINDOW + 1 : end + 1]]
        csat_n, satisfied = sum(s.csat_responses for s in window), sum(s.csat_satisfied for s in window)
        enough = sum(s.responses for s in window) >= window[-1].min_sample and csat_n > 0
        points.append(
            TrendPoint(
                label=f"{weeks[end].week:%-d %b}",
                bar=weeks[end].stats.responses,
                line=100 * satisfied / csat_n if enough else None,
                band=wilson(satisfied, csat_n) if enough else None,
            )
        )
    return points


@dataclass(frozen=True)
class WeekRow:
    """A row of the weekly table: the week's figures, the trend line's point (its 8 weeks) and whether the week's
    CSAT % and CES mean are above (1) or below (−1) the week before by more than noise (0: intervals overlap)."""

    week: WeekPoint
    trend: TrendPoint
    csat_change: int
    ces_change: int


def weekly_trend(history: list[WeekPoint], *, title: str) -> dict[str, Any]:
    """The weekly table's rows and the trend chart of the last TREND_WEEKS weeks of `history` (which has
    TREND_WINDOW - 1 weeks more before them)."""
    trend = trend_points(history)
    shown = range(TREND_WINDOW - 1, len(history))
    rows = [
        WeekRow(
            week=history[i],
            trend=point,
            csat_change=csat_difference(history[i].stats, history[i - 1].stats),
            ces_change=ces_difference(history[i].stats, history[i - 1].stats),
        )
        for i, point in zip(shown, trend, strict=True)
    ]
    return {
        "week_rows": rows,
        "trend_svg": trend_chart(trend, title=title, line_name="satisfied", bar_name="responses"),
    }


def period_from(request: HttpRequest) -> tuple[PeriodForm, Period]:
    form = PeriodForm(request.GET or None)
    return form, form.period_or_default()


def _query_with(params: QueryDict, name: str, value: str) -> str:
    query = params.copy()
    query.pop(name, None)
    if value:
        query[name] = value
    return query.urlencode()


def _narrowed(
    responses: QuerySet[SurveyResponse], *, comment_filter: CommentFilter, value: str
) -> QuerySet[SurveyResponse]:
    return comment_filter.narrow(responses, value)


def comments_context(
    *, request: HttpRequest, invitations: QuerySet[SurveyInvitation], period: Period
) -> dict[str, Any]:
    """The latest comments narrowed by the comment filters of the apps above (an unknown value is "All"), each
    comment with the filters' badges: one query."""
    narrow: list[Callable[[QuerySet[SurveyResponse]], QuerySet[SurveyResponse]]] = []
    select_related: list[str] = []
    filter_links: list[dict[str, Any]] = []
    for comment_filter in comment_filters():
        chosen = request.GET.get(comment_filter.name, "")
        chosen = chosen if chosen in dict(comment_filter.choices) else ""
        options = [("", "All"), *comment_filter.choices]
        filter_links.append(
            {
                "label": comment_filter.label,
                "links": [
                    (label, _query_with(request.GET, comment_filter.name, value), value == chosen)
                    for value, label in options
                ],
            }
        )
        select_related += comment_filter.select_related
        if chosen:
            narrow.append(partial(_narrowed, comment_filter=comment_filter, value=chosen))
    comments = latest_comments(
        invitations=invitations, start=period.start, end=period.end, narrow=narrow, select_related=select_related
    )
    return {
        "comments": [(response, [f.badge(response) for f in comment_filters()]) for response in comments],
        "comment_filters": filter_links,
        "comments_filtered": bool(narrow),
    }


def figures_url(request: HttpRequest, **scope: str | int) -> str | None:
    """The partial of the figures the apps above add beside CSAT and CES (None when none is registered): loaded by the
    page, so an app's figure never costs the page a query. `scope`: me=1, agent=<id> or team=1."""
    if not feedback_figures():
        return None
    query = request.GET.copy()
    for name in ("me", "agent", "team"):
        query.pop(name, None)
    query.update({name: str(value) for name, value in scope.items()})
    return f"{reverse('surveys:feedback-figures')}?{query.urlencode()}"


@require_GET
@login_required
def feedback_figures_partial(request: HttpRequest) -> HttpResponse:
    """The registered figures of My feedback (me=1), a lead's view of an agent (agent=<id>) or the team dashboard
    (team=1), over the page's period, for the invitations that page counts (the same permission rules; else 404)."""
    _, period = period_from(request)
    user = signed_in_user(request)
    invitations: QuerySet[SurveyInvitation] | None
    if request.GET.get("team"):
        led = queues_led_by(user)
        invitations = invitations_visible_to(user).filter(queue_id__in=led.values("pk")) if led.exists() else None
    elif (agent := request.GET.get("agent", "")).isdigit() and int(agent) < 2**63:
        invitations = agent_feedback_invitations(viewer=user, agent_id=int(agent))
    else:
        invitations = SurveyInvitation.objects.filter(agent_id=user.pk)
    if invitations is None:
        raise Http404
    figures = [
        render_to_string(figure.template, figure.context(invitations, period), request=request)
        for figure in feedback_figures()
    ]
    return render(request, "surveys/agent/_figures.html", {"figures": figures})


def feedback_context(
    *,
    request: HttpRequest,
    invitations: QuerySet[SurveyInvitation],
    period: Period,
    viewer: UserLike,
    agent_id: int,
) -> dict[str, Any]:
    """Every figure of a feedback page, the agent's SLA achievement beside: a fixed number of queries, whatever the
    number of responses and targets."""
    stats, csat, ces = feedback_stats_with_distributions(invitations=invitations, start=period.start, end=period.end)
    history = weekly_feedback(invitations=invitations, weeks=TREND_WEEKS + TREND_WINDOW - 1)
    return {
        "stats": stats,
        "sla": agent_sla_achievement(viewer=viewer, agent_id=agent_id, start=period.start, end=period.end),
        "period": period,
        **weekly_trend(
            history,
            title="CSAT % satisfied over 8 weeks (line, its 95% interval as a band) and responses per week (bars), "
            "last 12 weeks",
        ),
        "csat_distribution": csat,
        "ces_distribution": ces,
        "csat_svg": distribution_chart(csat, title="CSAT scores, 1 to 5 (4–5 satisfied)", good_from=4),
        "ces_svg": distribution_chart(ces, title="CES scores, 1 to 7 (5–7 agree)", good_from=5),
        **comments_context(request=request, invitations=invitations, period=period),
        "figures_url": figures_url(request, **({"me": 1} if agent_id == viewer.pk else {"agent": agent_id})),
    }


def _render(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    template = "surveys/agent/feedback.html"
    htmx = getattr(request, "htmx", None)
    if htmx and htmx.target == "feedback":  # the period filter swaps the figures only
        template = "surveys/agent/_feedback_body.html"
    return render(request, template, context, status=400 if context["form"].errors else 200)


@require_GET
@login_required
def my_feedback(request: HttpRequest) -> HttpResponse:
    form, period = period_from(request)
    user = signed_in_user(request)
    invitations = SurveyInvitation.objects.filter(agent_id=user.pk)
    context = {
        "form": form,
        "subject": request.user,
        "own": True,
        **feedback_context(request=request, invitations=invitations, period=period, viewer=user, agent_id=user.pk),
    }
    return _render(request, context)


@require_GET
@login_required
def agent_feedback(request: HttpRequest, agent_id: int) -> HttpResponse:
    """A lead sees a member of a queue they lead (only that queue's ratings); admins anyone; otherwise 404."""
    agent = get_object_or_404(team_agents_visible_to(request.user), pk=agent_id)
    invitations = agent_feedback_invitations(viewer=request.user, agent_id=agent.pk)
    if invitations is None:
        raise Http404
    form, period = period_from(request)
    context = {"form": form, "subject": agent, "own": agent.pk == request.user.pk}
    context |= feedback_context(
        request=request, invitations=invitations, period=period, viewer=request.user, agent_id=agent.pk
    )
    return _render(request, context)
