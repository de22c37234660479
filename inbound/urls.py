from django.urls import path

from . import devmail, views

app_name = "inbound"
urlpatterns = [
    path("inbound/held/<int:pk>/", views.held_decide_view, name="held-decide"),
    path("dev/mail/write/", devmail.write, name="dev-write"),  # DEBUG only, like the dev mailbox
]
