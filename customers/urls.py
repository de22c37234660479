from django.urls import path

from . import views

app_name = "customers"
urlpatterns = [
    path("tickets/<int:ticket_id>/", views.history, name="history"),
    path("tickets/<int:ticket_id>/vip/", views.vip, name="vip"),
]
