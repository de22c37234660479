"""The Django admin of the desk: superusers (the admin role) only. Agents and leads work in the app; a staff flag
without superuser gets the admin's login page for every admin URL, whatever model permissions it holds."""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest


class HelpdeskAdminSite(admin.AdminSite):
    site_header = site_title = "Helpdesk administration"

    def has_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)


class HelpdeskAdminConfig(AdminConfig):
    """Replaces "django.contrib.admin" in INSTALLED_APPS: `admin.site` (every app's registrations) is this site."""

    default_site = "helpdesk.admin_site.HelpdeskAdminSite"
