from django.urls import path

from . import devmail, views

app_name = "inbound"
urlpatterns = [
    path("inbound/held/", views.held_list, name="held-list"),
    path("inbound/held/<int:pk>/", views.held_decide_view, name="held-decide"),
    path("inbound/held/<int:pk>/text/", views.held_text, name="held-text"),
    path("inbound/held/<int:pk>/<slug:action>/", views.held_act, name="held-act"),
    path("dev/mail/write/", devmail.write, name="dev-write"),  # DEBUG only, like the dev mailbox
]
