from django.urls import path

from . import views

app_name = "sentiment"
urlpatterns = [
    path("live/", views.live, name="live"),
    path("tickets/<int:ticket_id>/", views.ticket_messages, name="ticket"),
]
