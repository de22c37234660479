"""Every non-trivial read of the surveys app, one module per job: permissions (who sees what), feedback (figures),
followups (lists), dashboard (a lead's team), recovery, nps (the NPS figure), throttle.
`from surveys.selectors import …` works for the names below."""

from .dashboard import AgentRow, TeamDashboard, team_dashboard
from .feedback import (
    FeedbackStats,
    WeekPoint,
    agent_sla_achievement,
    ces_difference,
    csat_difference,
    feedback_for_queue,
    feedback_stats,
    feedback_stats_with_distributions,
    latest_comments,
    min_feedback_sample,
    responses_for_export,
    weekly_feedback,
)
from .followups import DUE_SOON, OPEN_FOLLOWUP_STATUSES, followups_for_owner, followups_for_team
from .nps import (
    Nps,
    nps_by_month,
    nps_by_queue,
    nps_policy_current,
    nps_surveys_visible_to,
    nps_total,
)
from .permissions import (
    agent_feedback_invitations,
    followup_assignees,
    followups_visible_to,
    invitations_visible_to,
    queues_led_by,
    team_agents_visible_to,
    user_is_lead,
)
from .recovery import Recovery, recovery_by, recovery_cells, resurveys_visible_to

__all__ = [
    "DUE_SOON",
    "OPEN_FOLLOWUP_STATUSES",
    "AgentRow",
    "FeedbackStats",
    "Nps",
    "Recovery",
    "TeamDashboard",
    "WeekPoint",
    "agent_feedback_invitations",
    "agent_sla_achievement",
    "ces_difference",
    "csat_difference",
    "feedback_for_queue",
    "feedback_stats",
    "feedback_stats_with_distributions",
    "followup_assignees",
    "followups_for_owner",
    "followups_for_team",
    "followups_visible_to",
    "invitations_visible_to",
    "latest_comments",
    "min_feedback_sample",
    "nps_by_month",
    "nps_by_queue",
    "nps_policy_current",
    "nps_surveys_visible_to",
    "nps_total",
    "queues_led_by",
    "recovery_by",
    "recovery_cells",
    "responses_for_export",
    "resurveys_visible_to",
    "team_agents_visible_to",
    "team_dashboard",
    "user_is_lead",
    "weekly_feedback",
]
