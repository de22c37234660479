from django.urls import include, path

from .views import actions, agent, attachments, public

agent_patterns = [
    path("", agent.ticket_list, name="list"),
    path("new/", agent.ticket_new, name="new"),
    path("<int:pk>/", agent.ticket_detail, name="detail"),
    path("<int:pk>/reply/", actions.reply, name="reply"),
    path("<int:pk>/note/", actions.note, name="note"),
    path("<int:pk>/assign/", actions.assign, name="assign"),
    path("<int:pk>/status/", actions.set_status, name="status"),
    path("<int:pk>/priority/", actions.set_priority, name="priority"),
    path("<int:pk>/move/", actions.move, name="move"),
    path("<int:pk>/close/", actions.close, name="close"),
    path("<int:pk>/reopen/", actions.reopen, name="reopen"),
    path("<int:pk>/cc/", actions.cc_add, name="cc-add"),
    path("<int:pk>/cc/remove/", actions.cc_remove, name="cc-remove"),
    path("<int:pk>/attachments/<int:attachment_id>/", attachments.attachment_download, name="attachment"),
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
