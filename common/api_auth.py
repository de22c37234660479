"""Token login for API clients (django-rest-knox: only a hash of each token is stored; admins revoke in the admin)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from knox import views as knox_views
from rest_framework import serializers
from rest_framework.authentication import BasicAuthentication, SessionAuthentication

from common.api import IsAuthenticatedUser


@extend_schema(
    request=None,
    responses=inline_serializer(
        "AuthToken",
        {
            "expiry": serializers.DateTimeField(allow_null=True),
            "token": serializers.CharField(help_text="Shown once; only its hash is stored."),
        },
    ),
    description="Issue an API token for the user authenticated by HTTP Basic or the session. The token is "
    "returned once; the server keeps only its hash. Send it as `Authorization: Token <token>`.",
)
class LoginView(knox_views.LoginView):
    authentication_classes = (BasicAuthentication, SessionAuthentication)
    permission_classes = (IsAuthenticatedUser,)


@extend_schema(request=None, responses={204: None}, description="Revoke the token this request was made with.")
class LogoutView(knox_views.LogoutView):
    pass


@extend_schema(request=None, responses={204: None}, description="Revoke every token of the user.")
class LogoutAllView(knox_views.LogoutAllView):
    pass
