"""REST API v1 routes (/api/v1/) and the OpenAPI schema and docs (/api/schema/, /api/docs/).

The surveys routes are included only when the surveys app is installed: without it the API is the ticket desk's.
"""

from django.apps import apps
from django.urls import include, path, re_path
from drf_spectacular.utils import OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from common.api_auth import LoginView, LogoutAllView, LogoutView
from common.api_errors import not_found
from tickets import api as tickets_api

router = SimpleRouter()
router.register("tickets", tickets_api.TicketViewSet, basename="ticket")
router.register(r"tickets/(?P<ticket_pk>[^/]+)/messages", tickets_api.TicketMessageViewSet, basename="ticket-message")
router.register("customers", tickets_api.CustomerViewSet, basename="customer")


class ApiRootView(APIView):
    """GET /api/v1/: the API's entry points, for anyone (nothing in it is secret): each resource list, the token
    login, the schema and its docs. The routes with an id in them (a ticket's messages, stats) are in the docs."""

    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="api_root",
        summary="The API's entry points",
        responses={
            200: OpenApiResponse(
                response={"type": "object", "additionalProperties": {"type": "string", "format": "uri"}},
                description="Name → absolute URL: every resource list, auth-login, schema, docs, redoc.",
            )
        },
    )
    def get(self, request: Request) -> Response:
        def link(name: str) -> str:
            return reverse(name, request=request)

        links = {prefix: link(f"v1:{basename}-list") for prefix, _, basename in router.registry if "(?P<" not in prefix}
        links |= {"auth-login": link("v1:knox_login")}
        links |= {"schema": link("api-schema"), "docs": link("api-docs"), "redoc": link("api-redoc")}
        return Response(links)


v1 = [
    path("", ApiRootView.as_view(), name="root"),
    path("auth/login/", LoginView.as_view(), name="knox_login"),
    path("auth/logout/", LogoutView.as_view(), name="knox_logout"),
    path("auth/logoutall/", LogoutAllView.as_view(), name="knox_logoutall"),
]
if apps.is_installed("surveys"):
    from surveys import api as surveys_api
    from surveys import api_stats as surveys_api_stats

    router.register("survey-invitations", surveys_api.SurveyInvitationViewSet, basename="survey-invitation")
    router.register("survey-responses", surveys_api.SurveyResponseViewSet, basename="survey-response")
    router.register("followups", surveys_api.FollowUpViewSet, basename="followup")
    v1 += [
        # Any id text reaches the view, which answers a JSON 404 for a non-number (not Django's HTML 404).
        re_path(r"^stats/agents/(?P<agent_id>[^/]+)/$", surveys_api_stats.AgentStatsView.as_view(), name="stats-agent"),
        re_path(r"^stats/queues/(?P<queue_id>[^/]+)/$", surveys_api_stats.QueueStatsView.as_view(), name="stats-queue"),
    ]
v1 += [
    path("", include(router.urls)),
    re_path(r"", not_found),  # anything else under /api/v1/: a JSON 404 like the API's own
]

urlpatterns = [
    path("v1/", include((v1, "api"), namespace="v1")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's initialiser as a script file: no inline script (Content-Security-Policy).
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path(
        "redoc/",
        SpectacularRedocView.as_view(url_name="api-schema", template_name="drf_spectacular/redoc_local.html"),
        name="api-redoc",
    ),
]
