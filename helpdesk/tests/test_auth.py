"""Login, logout and password reset pages (Django's views, our layout); reset mail goes through the outbox."""

import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from outbox.models import OutgoingEmail
from outbox.tests.sending import outbox_deliver

pytestmark = pytest.mark.django_db


def test_login_page_renders_and_a_wrong_password_gets_an_error(client, agent):
    assert client.get(reverse("login")).status_code == 200

    response = client.post(reverse("login"), {"username": agent.username, "password": "wrong"})

    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_logout_is_post_only(client, agent):
    client.force_login(agent)
    assert client.get(reverse("logout")).status_code == 405

    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


@pytest.fixture
def outbox_backend(settings):
    """pytest-django swaps EMAIL_BACKEND for locmem; put the real one (the outbox) back."""
    settings.EMAIL_BACKEND = "outbox.backends.OutboxEmailBackend"


def test_password_reset_queues_an_email_in_the_outbox_and_its_link_sets_a_new_password(
    client, agent, outbox_backend, mailoutbox
):
    # when the agent asks for a reset
    response = client.post(reverse("password_reset"), {"email": agent.email})

    # then an email is queued in the outbox (nothing is sent from the request), without its link
    assert response.status_code == 302
    email = OutgoingEmail.objects.get(to_email=agent.email)
    assert (email.kind, email.related, email.body_text, email.body_html) == ("password_reset", agent, "", "")
    assert email.render_spec["user_id"] == agent.pk

    # and once the outbox sends it, its link lets them choose a new password
    outbox_deliver()
    [message] = mailoutbox
    assert message.subject == "Reset your Helpdesk password"
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+)", message.body).group(1)
    form_url = client.get(link).url
    response = client.post(form_url, {"new_password1": "a-new-Passw0rd!", "new_password2": "a-new-Passw0rd!"})
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.check_password("a-new-Passw0rd!")


def test_password_reset_for_an_unknown_address_says_the_same_and_queues_nothing(client, outbox_backend):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.org"}, follow=True)

    assert "Check your email" in response.content.decode()
    assert not OutgoingEmail.objects.exists()


@pytest.fixture
def fresh_rate_limits():
    cache.clear()  # rate-limit counters live in the (process-wide) cache
    yield
    cache.clear()


def test_password_reset_requests_are_rate_limited_per_client_ip(client, settings, outbox_backend, fresh_rate_limits):
    settings.PASSWORD_RESET_RATE_LIMIT = "3/h"

    codes = [client.post(reverse("password_reset"), {"email": f"x{n}@example.org"}).status_code for n in range(4)]

    assert codes == [302, 302, 302, 429]
    assert client.get(reverse("password_reset")).status_code == 200  # the form itself stays readable
    other_client = Client(REMOTE_ADDR="192.0.2.7")
    assert other_client.post(reverse("password_reset"), {"email": "y@example.org"}).status_code == 302


def test_password_reset_requests_for_one_address_are_limited_without_telling_whether_it_exists(
    settings, agent, outbox_backend, fresh_rate_limits
):
    settings.PASSWORD_RESET_EMAIL_RATE_LIMIT = "2/h"

    def ask(address: str, n: int):  # each from another client, so only the per-address limit applies
        return Client(REMOTE_ADDR=f"192.0.2.{n}").post(reverse("password_reset"), {"email": address}, follow=True)

    known = [ask(address, n) for n, address in enumerate([agent.email, agent.email.upper(), agent.email])]
    unknown = [ask("nobody@example.org", 10 + n) for n in range(3)]

    # then every answer is the same "check your email" page, for the known and the unknown address alike
    for response in known + unknown:
        assert response.redirect_chain == [(reverse("password_reset_done"), 302)]
        assert "Check your email" in response.content.decode()
    # and the account got two emails, not three (the address is counted whatever its case)
    assert OutgoingEmail.objects.filter(to_email=agent.email).count() == 2
    assert OutgoingEmail.objects.count() == 2


def test_repeated_wrong_passwords_lock_the_login_even_with_the_right_one(client, agent, settings):
    # given the failure limit is reached from one client for one username
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": agent.username, "password": "guess"})

    # when the right password is tried from there
    response = client.post(reverse("login"), {"username": agent.username, "password": "pw"})

    # then it is refused with the lockout page, and nobody is logged in
    assert response.status_code == 429
    assert "Too many failed log-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_successful_login_resets_the_failure_count(client, agent, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post(reverse("login"), {"username": agent.username, "password": "guess"})
    assert client.post(reverse("login"), {"username": agent.username, "password": "pw"}).status_code == 302
    client.post(reverse("logout"))

    response = client.post(reverse("login"), {"username": agent.username, "password": "guess"})

    assert response.status_code == 200  # one failure again, not locked
