from django.urls import path

from . import views

app_name = "inbound"
urlpatterns = [
    path("inbound/held/<int:pk>/", views.held_decide_view, name="held-decide"),
]
