from django.urls import include, path

from .views import actions, agent, attachments, bulk, nav, public

agent_patterns = [
    path("", agent.ticket_list, name="list"),
    path("new/", agent.ticket_new, name="new"),
    path("bulk/", bulk.bulk_change, name="bulk"),
    path("<int:pk>/", agent.ticket_detail, name="detail"),
    *(
        path(f"<int:pk>/{action.route}", actions.act, {"action": action}, name=name)
        for name, action in actions.ACTIONS.items()
    ),
    path("<int:pk>/attachments/<int:attachment_id>/", attachments.attachment_download, name="attachment"),
    path("nav-count/", nav.nav_count, name="nav-count"),
]
public_patterns = [
    path("new/", public.request_new, name="new"),
    path("new/thanks/", public.request_thanks, name="thanks"),
    path("c/<str:token>/", public.conversation, name="conversation"),
    path("c/<str:token>/files/<int:attachment_id>/", public.conversation_attachment, name="conversation-attachment"),
]

urlpatterns = [
    path("", agent.home, name="home"),
    path("tickets/", include((agent_patterns, "tickets"))),
    path("support/", include((public_patterns, "support"))),
]
