from django.apps import apps
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from common.password_reset import PasswordResetView
from outbox import devmail
from outbox import views as outbox_views
from outbox.passwords import PasswordResetForm

urlpatterns = [
    path("admin/status/", outbox_views.status_page, name="admin-status"),
    path("admin/", admin.site.urls),
    path("api/", include("helpdesk.api_urls")),
    path("healthz", outbox_views.healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    # rate limited (common.password_reset); the reset mail is queued as a render spec: its link is made when it is sent,
    # never stored (outbox.passwords)
    path(
        "accounts/password_reset/",
        PasswordResetView.as_view(form_class=PasswordResetForm),
        name="password_reset",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    # surveys only when installed: without it the site is a plain ticket desk (tickets never links to surveys)
    *([path("", include("surveys.urls"))] if apps.is_installed("surveys") else []),
    # before the dev mailbox's email pages, so /dev/mail/write/ is not taken for an email's name
    *([path("", include("inbound.urls"))] if apps.is_installed("inbound") else []),
    *([path("sentiment/", include("sentiment.urls"))] if apps.is_installed("sentiment") else []),
    *([path("customers/", include("customers.urls"))] if apps.is_installed("customers") else []),
    *([path("macros/", include("macros.urls"))] if apps.is_installed("macros") else []),
    path("dev/mail/", devmail.mailbox, name="devmail"),  # DEBUG only: the views answer 404 otherwise
    path("dev/mail/<str:name>/", devmail.mail_detail, name="devmail-detail"),
    path("", include("tickets.urls")),
]
