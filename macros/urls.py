from django.urls import path

from . import views

app_name = "macros"
urlpatterns = [
    path("", views.macro_list, name="list"),
    path("new/", views.macro_edit, name="new"),
    path("<int:pk>/", views.macro_edit, name="edit"),
    path("<int:pk>/delete/", views.macro_remove, name="delete"),
    path("picker/<int:ticket_pk>/", views.macro_picker, name="picker"),
    path("preview/<int:ticket_pk>/", views.macro_preview, name="preview"),
]
