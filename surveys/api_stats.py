"""REST API v1: the feedback figures of an agent or a queue, with the SLA achievement beside them — computed by the
same selectors as the web pages (My feedback, the team dashboard), so the numbers are the same."""

from __future__ import annotations

import dataclasses
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tickets.sla.selectors import SlaAchievement, sla_achievement

from .forms import Period, PeriodForm
from .models import NpsSurvey, Resurvey
from .selectors import (
    FeedbackStats,
    Nps,
    Recovery,
    agent_feedback_invitations,
    agent_sla_achievement,
    feedback_for_queue,
    feedback_stats,
    nps_by_queue,
    queues_led_by,
    recovery_by,
    recovery_cells,
)


class StatsQuerySerializer(serializers.Serializer[Any]):
    """The period, validated by the web pages' PeriodForm (same limits); none given: the pages' default period."""

    start = serializers.DateField(required=False, help_text="First day (inclusive). Give both or neither.")
    end = serializers.DateField(required=False, help_text="Last day (inclusive). Give both or neither.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("start"), attrs.get("end")
        if (start is None) != (end is None):
            raise serializers.ValidationError("Give both start and end, or neither (the default period).")
        if start is None:
            attrs["period"] = PeriodForm().period_or_default()  # the web pages' default period
            return attrs
        form = PeriodForm({"period": "custom", "from": start, "to": end})
        if not form.is_valid():
            raise serializers.ValidationError([str(e) for errors in form.errors.values() for e in errors])
        attrs["period"] = form.period_or_default()
        return attrs


class SlaAchievementSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=["first_reply", "next_reply", "resolution"])
    met = serializers.IntegerField(help_text="Targets met, settled in the period.")
    breached = serializers.IntegerField(help_text="Targets breached, settled in the period.")
    settled = serializers.IntegerField(help_text="met + breached (spam and duplicate closes are in neither).")
    pct = serializers.FloatField(allow_null=True, help_text="met / settled, 0–100; null when none settled.")


def _sla_rows(sla: SlaAchievement) -> list[dict[str, Any]]:
    return [
        {"kind": a.kind, "met": a.met, "breached": a.breached, "settled": a.settled, "pct": a.pct} for a in sla.kinds
    ]


class IntervalSerializer(serializers.Serializer[Any]):
    """A 95% interval: a range drawn this way, from this many answers, holds the true figure 19 times out of 20."""

    low = serializers.FloatField(help_text="Lower bound, in the figure's unit.")
    high = serializers.FloatField(help_text="Upper bound, in the figure's unit.")


class RecoverySerializer(serializers.Serializer[Any]):
    emailed = serializers.IntegerField(help_text="Re-surveys emailed in the period (the outbox sent them).")
    answered = serializers.IntegerField(help_text="Re-surveys answered (a link scanner's burst is not an answer).")
    recovered = serializers.IntegerField(help_text="Answers of 4–5 to “Did we make this right?”.")
    rate = serializers.FloatField(allow_null=True, help_text="Recovery rate: recovered / answered, 0–100.")
    response_rate = serializers.FloatField(allow_null=True, help_text="answered / emailed, 0–100.")
    rate_ci = IntervalSerializer(allow_null=True, help_text="95% Wilson interval of rate, 0–100 (null: no answer).")
    response_rate_ci = IntervalSerializer(
        allow_null=True, help_text="95% Wilson interval of response_rate, 0–100 (null: none emailed)."
    )


def _interval(of: str) -> IntervalSerializer:
    return IntervalSerializer(allow_null=True, help_text=f"95% interval of {of}.")


class FeedbackStatsSerializer(serializers.Serializer[Any]):
    """Figures of the period. Every share and mean has its 95% interval (`*_ci`, null when there is nothing to
    measure it on): two figures differ beyond noise only when their intervals do not overlap. Figures and intervals
    are given whatever the sample; below min_sample (`enough` false) the web pages show neither."""

    start = serializers.DateTimeField(help_text="Period start (inclusive).")
    end = serializers.DateTimeField(help_text="Period end (exclusive).")
    invitations_sent = serializers.IntegerField(help_text="Invitations emailed in the period (by sent_at).")
    responses = serializers.IntegerField()
    csat_responses = serializers.IntegerField()
    csat_satisfied = serializers.IntegerField(help_text="CSAT 4–5.")
    csat_satisfied_pct = serializers.FloatField(allow_null=True, help_text="Satisfied / CSAT responses, 0–100.")
    csat_mean = serializers.FloatField(allow_null=True, help_text="Mean CSAT score, 1–5.")
    ces_responses = serializers.IntegerField()
    ces_agree = serializers.IntegerField(help_text="CES 5–7.")
    ces_mean = serializers.FloatField(allow_null=True, help_text="Mean CES score, 1–7.")
    ces_agree_pct = serializers.FloatField(allow_null=True, help_text="Agree / CES responses, 0–100.")
    response_rate = serializers.FloatField(allow_null=True, help_text="Responses / invitations emailed, 0–100.")
    min_sample = serializers.IntegerField(help_text="Below this many responses the figures are not significant.")
    enough = serializers.BooleanField(help_text="responses >= min_sample")
    csat_satisfied_ci = _interval("csat_satisfied_pct: Wilson score interval, 0–100 (null: no CSAT response)")
    csat_mean_ci = _interval("csat_mean: Student t interval, within 1–5 (null: fewer than 2 CSAT responses)")
    ces_mean_ci = _interval("ces_mean: Student t interval, within 1–7 (null: fewer than 2 CES responses)")
    ces_agree_ci = _interval("ces_agree_pct: Wilson score interval, 0–100 (null: no CES response)")
    response_rate_ci = _interval("response_rate: Wilson score interval, 0–100 (null: no invitation emailed)")
    sla = SlaAchievementSerializer(
        many=True, help_text="SLA achievement per target kind, of targets settled in the period."
    )
    recovery = RecoverySerializer(
        help_text="The re-surveys after resolved follow-ups emailed in the period (by the follow-up's owner at "
        "resolution for an agent)."
    )


class NpsSerializer(serializers.Serializer[Any]):
    promoters = serializers.IntegerField(help_text="Answers of 9–10, given in the period.")
    passives = serializers.IntegerField(help_text="Answers of 7–8.")
    detractors = serializers.IntegerField(help_text="Answers of 0–6.")
    n = serializers.IntegerField(help_text="Answers (a link scanner's burst is not an answer).")
    score = serializers.FloatField(allow_null=True, help_text="% promoters − % detractors, −100…100; null: none.")
    score_ci = IntervalSerializer(
        allow_null=True, help_text="95% interval of score: ±1.96·√(Var/n), within −100…100 (null: no answer)."
    )


class QueueStatsSerializer(FeedbackStatsSerializer):
    nps = NpsSerializer(
        help_text="The NPS relationship survey answered in the period by customers whose latest closed ticket (when "
        "it was scheduled) was in this queue."
    )


STATS_PARAMETERS = [
    OpenApiParameter(
        "start",
        OpenApiTypes.DATE,
        description="First day (inclusive); give both or neither (default: the web pages' default period).",
    ),
    OpenApiParameter("end", OpenApiTypes.DATE, description="Last day (inclusive); give both or neither."),
]


@extend_validation_errors(["invalid"], field_name="non_field_errors")
@extend_validation_errors(["invalid"], field_name="start")
@extend_validation_errors(["invalid"], field_name="end")
class _StatsView(APIView):
    kwarg = ""
    serializer: type[FeedbackStatsSerializer] = FeedbackStatsSerializer

    def stats(self, request: Request, pk: int, period: Period) -> tuple[FeedbackStats, SlaAchievement]:
        raise NotImplementedError

    def resurveys(self, request: Request, pk: int) -> QuerySet[Resurvey]:
        """Asked after stats(), which has checked the permission."""
        raise NotImplementedError

    def more_figures(self, pk: int, period: Period) -> dict[str, Any]:
        """More figures of the view's serializer; asked after stats()."""
        return {}

    def get(self, request: Request, **kwargs: Any) -> Response:
        value = kwargs[self.kwarg]
        if not (value.isascii() and value.isdigit() and 0 < int(value) < 2**63):
            raise Http404
        query = StatsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        period: Period = query.validated_data["period"]
        stats, sla = self.stats(request, int(value), period)
        cells = recovery_cells(resurveys=self.resurveys(request, int(value)), start=period.start, end=period.end)
        recovery = recovery_by(cells, lambda key: ()).get((), Recovery())
        data = {"start": period.start, "end": period.end, **dataclasses.asdict(stats), "sla": _sla_rows(sla)}
        data["recovery"] = {
            **dataclasses.asdict(recovery),
            "rate": recovery.rate,
            "response_rate": recovery.response_rate,
            "rate_ci": recovery.interval,
            "response_rate_ci": recovery.response_interval,
        }
        return Response(self.serializer({**data, **self.more_figures(int(value), period)}).data)


@extend_schema(
    summary="Feedback figures of an agent (what My feedback / the lead's agent page show)",
    parameters=[OpenApiParameter("agent_id", OpenApiTypes.INT, OpenApiParameter.PATH), *STATS_PARAMETERS],
    responses=FeedbackStatsSerializer,
)
class AgentStatsView(_StatsView):
    kwarg = "agent_id"

    def stats(self, request: Request, pk: int, period: Period) -> tuple[FeedbackStats, SlaAchievement]:
        """As the web pages: your own ratings all; a lead a team member's in the queues they lead; admins anyone's."""
        invitations = agent_feedback_invitations(viewer=request.user, agent_id=pk)
        if invitations is None:
            raise Http404
        return (
            feedback_stats(invitations=invitations, start=period.start, end=period.end),
            agent_sla_achievement(viewer=request.user, agent_id=pk, start=period.start, end=period.end),
        )

    def resurveys(self, request: Request, pk: int) -> QuerySet[Resurvey]:
        resurveys = Resurvey.objects.filter(agent_id=pk)
        if pk == request.user.pk or request.user.is_superuser:
            return resurveys
        return resurveys.filter(queue_id__in=queues_led_by(request.user).values("pk"))


@extend_schema(
    summary="Feedback figures of a queue (leads of the queue and admins)",
    parameters=[OpenApiParameter("queue_id", OpenApiTypes.INT, OpenApiParameter.PATH), *STATS_PARAMETERS],
    responses=QueueStatsSerializer,
)
class QueueStatsView(_StatsView):
    kwarg = "queue_id"
    serializer = QueueStatsSerializer

    def stats(self, request: Request, pk: int, period: Period) -> tuple[FeedbackStats, SlaAchievement]:
        if not queues_led_by(request.user).filter(pk=pk).exists():
            raise Http404
        return (
            feedback_for_queue(queue_id=pk, start=period.start, end=period.end),
            sla_achievement(user=request.user, start=period.start, end=period.end, queue_ids=[pk]),
        )

    def resurveys(self, request: Request, pk: int) -> QuerySet[Resurvey]:
        return Resurvey.objects.filter(queue_id=pk)

    def more_figures(self, pk: int, period: Period) -> dict[str, Any]:
        nps = nps_by_queue(surveys=NpsSurvey.objects.filter(queue_id=pk), start=period.start, end=period.end)
        total = nps.get(pk, Nps())
        interval = total.interval
        return {
            "nps": {
                **dataclasses.asdict(total),
                "n": total.n,
                "score": total.score,
                "score_ci": {"low": interval[0], "high": interval[1]} if interval else None,
            }
        }
