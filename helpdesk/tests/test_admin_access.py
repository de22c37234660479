"""The admin is for superusers only: a staff agent (even one granted every model permission) gets the admin's login
page for every admin URL — every model's changelist, add, change, history and delete, the custom admin views and the
system status page — and cannot run an admin action; agents work in the app."""

from urllib.parse import urlsplit

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, reverse

from tickets import services as tickets
from tickets.models import Customer, QueueMembership, Ticket
from tickets.tests.factories import CustomerFactory, MembershipFactory

pytestmark = pytest.mark.django_db

# Admin URLs every visitor may open: the login page itself, and logout (which sends a non-admin to the index).
OPEN_TO_ALL = {"login", "logout"}


@pytest.fixture
def staff_agent(queue):
    """An agent of `queue` with the staff flag and every permission of every model: all an admin could grant."""
    user = MembershipFactory(queue=queue, user__is_staff=True).user
    user.user_permissions.set(Permission.objects.all())
    return user


@pytest.fixture
def their_ticket(outsider, customer):
    """A ticket of another queue, with a customer whose address must not leak."""
    other_queue = outsider.queue_memberships.get().queue
    return tickets.ticket_create(queue=other_queue, customer=customer, subject="Theirs", body="Private", by=outsider)


def admin_patterns(patterns=None, prefix=""):
    """(name, keyword arguments) of every named URL of the admin site, model admins' own URLs included."""
    for pattern in admin.site.get_urls() if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from admin_patterns(pattern.url_patterns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield pattern.name, sorted(pattern.pattern.regex.groupindex)


def admin_urls(*, object_id: int, content_type_id: int) -> list[str]:
    values = {"object_id": object_id, "id": object_id, "content_type_id": content_type_id, "app_label": "tickets"}
    return [
        reverse(f"admin:{name}", kwargs={key: values[key] for key in keys})
        for name, keys in admin_patterns()
        if name not in OPEN_TO_ALL
    ]


def is_login_page(response) -> bool:
    return response.status_code == 302 and urlsplit(response["Location"]).path == reverse("admin:login")


def test_a_staff_agent_gets_the_login_page_for_every_admin_url(client, staff_agent, their_ticket, customer):
    client.force_login(staff_agent)
    ticket_type = ContentType.objects.get_for_model(Ticket)
    urls = [*admin_urls(object_id=their_ticket.pk, content_type_id=ticket_type.pk), reverse("admin-status")]
    assert len(urls) > 5 * len(admin.site._registry)  # the walk found every model's URLs

    refused = {}
    for url in urls:
        response = client.get(url)
        refused[url] = is_login_page(response) or response.status_code == 403
        assert customer.email not in response.content.decode(), url

    assert {url for url, ok in refused.items() if not ok} == set()


def test_a_staff_agent_gets_the_login_page_for_every_changelist_and_add_form(client, staff_agent, customer):
    client.force_login(staff_agent)

    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        for view in ("changelist", "add"):
            response = client.get(reverse("admin:{}_{}_{}".format(*info, view)))
            assert is_login_page(response) or response.status_code == 403, (info, view, response.status_code)
            assert customer.email not in response.content.decode()


def test_a_superuser_opens_every_changelist_and_add_form(client, admin_user):
    client.force_login(admin_user)
    request = RequestFactory().get("/admin/")
    request.user = admin_user

    for model, model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        assert client.get(reverse("admin:{}_{}_changelist".format(*info))).status_code == 200, info
        expected = 200 if model_admin.has_add_permission(request) else 403  # rows some service writes
        assert client.get(reverse("admin:{}_{}_add".format(*info))).status_code == expected, info


def test_a_staff_agent_cannot_add_themselves_to_another_queue(client, staff_agent, outsider):
    other_queue = outsider.queue_memberships.get().queue
    client.force_login(staff_agent)

    response = client.post(
        reverse("admin:tickets_queuemembership_add"),
        {"user": staff_agent.pk, "queue": other_queue.pk, "role": QueueMembership.Role.LEAD},
    )

    assert is_login_page(response)
    assert not QueueMembership.objects.filter(user=staff_agent, queue=other_queue).exists()


def test_a_staff_agent_cannot_run_an_admin_action(client, staff_agent):
    customer = CustomerFactory()  # no tickets: nothing would protect it from deletion
    client.force_login(staff_agent)

    response = client.post(
        reverse("admin:tickets_customer_changelist"),
        {"action": "delete_selected", "_selected_action": [customer.pk], "post": "yes"},
    )

    assert is_login_page(response)
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_the_admin_link_is_shown_to_superusers_only(client, staff_agent, admin_user):
    client.force_login(staff_agent)
    agent_page = client.get(reverse("tickets:list")).content.decode()
    client.force_login(admin_user)
    admin_page = client.get(reverse("tickets:list")).content.decode()

    link = f'href="{reverse("admin:index")}"'
    assert link not in agent_page
    assert link in admin_page
