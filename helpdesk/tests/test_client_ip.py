"""Behind a proxy each client has its own rate-limit bucket, login lockout and API throttle (CLIENT_IP_PROXY_COUNT);
without one, X-Forwarded-For is ignored; a client cannot pick its bucket by adding entries to the header."""

import pytest
from django.core.cache import cache
from django.test import Client, RequestFactory
from django.urls import reverse
from rest_framework.throttling import SimpleRateThrottle

from common.client_ip import client_ip

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.2"  # the address every request comes from: our proxy
NEW = reverse("support:new")


@pytest.fixture(autouse=True)
def _fresh_counters():
    cache.clear()  # rate-limit counters and throttle histories live in the (process-wide) cache
    yield
    cache.clear()


def behind_proxy(forwarded_for: str) -> Client:
    return Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded_for)


@pytest.mark.parametrize(
    ("proxies", "forwarded_for", "expected"),
    [
        (0, "203.0.113.5", PROXY),  # no proxy of ours: the header is the client's own text
        (1, "203.0.113.5", "203.0.113.5"),
        (1, "198.51.100.9, 203.0.113.5", "203.0.113.5"),  # the left entry was sent by the client
        (2, "198.51.100.9, 203.0.113.5, 10.0.0.1", "203.0.113.5"),
        (2, "203.0.113.5", "203.0.113.5"),  # fewer entries than proxies: the leftmost, as DRF's NUM_PROXIES
        (1, "", PROXY),  # no header (a request that did not pass the proxy)
        (1, "not-an-ip", PROXY),  # never a client-chosen text as the key
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_ip_is_the_nth_forwarded_entry_from_the_right(settings, proxies, forwarded_for, expected):
    settings.CLIENT_IP_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded_for)

    assert client_ip(request) == expected


def test_behind_one_proxy_two_clients_have_separate_rate_limit_buckets(settings, queue):
    settings.CLIENT_IP_PROXY_COUNT = 1
    settings.PUBLIC_RATE_LIMIT = "2/m"

    first = [behind_proxy("203.0.113.5").get(NEW).status_code for _ in range(3)]
    second = behind_proxy("203.0.113.6").get(NEW).status_code

    assert first == [200, 200, 429]
    assert second == 200


def test_without_a_proxy_the_forwarded_header_is_ignored(settings, queue):
    settings.CLIENT_IP_PROXY_COUNT = 0
    settings.PUBLIC_RATE_LIMIT = "2/m"

    codes = [behind_proxy(f"203.0.113.{n}").get(NEW).status_code for n in range(3)]  # a new "address" each time

    assert codes == [200, 200, 429]


def test_a_spoofed_entry_left_of_the_proxys_does_not_change_the_bucket(settings, queue):
    settings.CLIENT_IP_PROXY_COUNT = 1
    settings.PUBLIC_RATE_LIMIT = "2/m"

    codes = [behind_proxy(f"198.51.100.{n}, 203.0.113.5").get(NEW).status_code for n in range(3)]

    assert codes == [200, 200, 429]


def lock_out(client: Client, username: str, settings) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": username, "password": "guess"})


def test_behind_one_proxy_a_lockout_locks_only_the_client_that_failed(settings, agent):
    settings.CLIENT_IP_PROXY_COUNT = 1
    guesser, colleague = behind_proxy("203.0.113.5"), behind_proxy("203.0.113.6")

    lock_out(guesser, agent.username, settings)

    assert guesser.post(reverse("login"), {"username": agent.username, "password": "pw"}).status_code == 429
    assert colleague.post(reverse("login"), {"username": agent.username, "password": "pw"}).status_code == 302


def test_without_a_proxy_count_a_forwarded_header_does_not_escape_a_lockout(settings, agent):
    settings.CLIENT_IP_PROXY_COUNT = 0
    lock_out(behind_proxy("203.0.113.5"), agent.username, settings)

    response = behind_proxy("203.0.113.99").post(reverse("login"), {"username": agent.username, "password": "pw"})

    assert response.status_code == 429


def test_behind_one_proxy_two_api_clients_are_throttled_separately(settings, monkeypatch):
    settings.CLIENT_IP_PROXY_COUNT = 1
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"user": "3/minute", "anon": "2/minute"})

    first = [behind_proxy("203.0.113.5").get("/api/schema/").status_code for _ in range(3)]
    spoofed = behind_proxy("198.51.100.1, 203.0.113.5").get("/api/schema/").status_code
    second = behind_proxy("203.0.113.6").get("/api/schema/").status_code

    assert first == [200, 200, 429]
    assert spoofed == 429
    assert second == 200
