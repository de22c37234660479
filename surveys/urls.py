from django.urls import path

from .views import feedback, followups, public, team

app_name = "surveys"
urlpatterns = [
    # customer pages (the token is the credential)
    path("s/<str:token>/", public.landing, name="landing"),
    path("s/<str:token>/thanks/", public.thanks, name="thanks"),
    path("s/<str:token>/unsubscribe/", public.unsubscribe, name="unsubscribe"),
    path("s/<str:token>/unsubscribe/one-click/", public.unsubscribe_one_click, name="unsubscribe-one-click"),
    path("r/<str:token>/", public.resurvey, name="resurvey"),
    path("n/<str:token>/", public.nps, name="nps"),
    # agent pages
    path("feedback/", feedback.my_feedback, name="my-feedback"),
    path("feedback/agents/<int:agent_id>/", feedback.agent_feedback, name="agent-feedback"),
    path("followups/", followups.my_followups, name="my-followups"),
    path("followups/team/", followups.team_followups, name="team-followups"),
    path("followups/<int:pk>/", followups.followup_detail, name="followup-detail"),
    *(
        path(f"followups/<int:pk>/{key}/", followups.followup_act, {"action": action}, name=f"followup-{key}")
        for key, action in followups.ACTIONS.items()
    ),
    path("team/", team.team, name="team"),
    path("team/recovery/", team.team_recovery, name="team-recovery"),
    path("team/nps/", team.team_nps, name="team-nps"),
    path("team/comments/", team.team_comments, name="team-comments"),
    path("feedback/figures/", feedback.feedback_figures_partial, name="feedback-figures"),
    path("team/export/tickets.csv", team.export_tickets, name="export-tickets"),
    path("team/export/responses.csv", team.export_responses, name="export-responses"),
]
