from django.urls import path

from . import views

app_name = "surveys"
urlpatterns = [
    path("s/<str:token>/", views.landing, name="landing"),
    path("s/<str:token>/thanks/", views.thanks, name="thanks"),
    path("s/<str:token>/unsubscribe/", views.unsubscribe, name="unsubscribe"),
    path("s/<str:token>/unsubscribe/one-click/", views.unsubscribe_one_click, name="unsubscribe-one-click"),
]
