"""Redis down: every customer page still answers and stores what the customer sent (the rate limits fail open).

The machine's real Redis is never touched: the cache is pointed at a refused port, at an address that swallows
connections (a black hole: 10.255.255.1 where it is not routed, and a local listener whose backlog is full, so
connecting hangs wherever the tests run), and at a server that accepts and never answers (reads hang)."""

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_ratelimit.core import is_ratelimited
from knox.models import AuthToken

from common import fail_open, ratelimit
from common.tokens import token_mint
from outbox.services import email_jobs, heartbeat_record, outbox_send
from surveys.models import SurveyInvitation, SurveyOptOut, SurveyPolicy, SurveyResponse
from surveys.services import invitation_send
from tickets.models import CONVERSATION_LINK_PURPOSE, CloseReason, Message, Ticket
from tickets.services import ticket_close, ticket_create
from tickets.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

FAST_ENOUGH = 1.5  # seconds: a dead cache costs a request one socket timeout (0.25 s) at most


def redis_cache(location: str) -> dict:
    options = {"socket_connect_timeout": 0.25, "socket_timeout": 0.25}  # as helpdesk/settings/base.py sets them
    return {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": location, "OPTIONS": options}
    }


def full_backlog_listener():
    """A port that never completes a connection: its accept queue is full and nobody accepts."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    filler = socket.socket()
    filler.connect(server.getsockname())
    return f"redis://127.0.0.1:{server.getsockname()[1]}/0", [server, filler]


def silent_server():
    """A server that accepts connections and never says a word."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    server.settimeout(0.1)
    sockets = [server]

    def accept() -> None:
        while server.fileno() != -1:
            try:
                sockets.append(server.accept()[0])
            except OSError:  # the accept timed out, or the test closed the server
                continue

    threading.Thread(target=accept, daemon=True).start()
    return f"redis://127.0.0.1:{server.getsockname()[1]}/0", sockets


@pytest.fixture(params=["refused", "black-holed-ip", "full-backlog", "silent"])
def dead_cache(request, settings):
    """The default cache on a Redis that cannot answer; the rate limits' failure state is cleared before and after."""
    sockets: list = []
    if request.param == "refused":
        location = "redis://127.0.0.1:1/0"
    elif request.param == "black-holed-ip":
        location = "redis://10.255.255.1:6379/0"  # not routed: connecting times out (a sandbox proxy may refuse)
    elif request.param == "full-backlog":
        location, sockets = full_backlog_listener()
    else:
        location, sockets = silent_server()
    settings.CACHES = redis_cache(location)
    settings.REDIS_URL = location
    fail_open.outage_reset()
    yield request.param
    fail_open.outage_reset()
    for sock in list(sockets):
        sock.close()


def timed(call):
    """call() with the limiters' breaker closed, so the request really meets the dead cache; and its duration."""
    fail_open.outage_reset()
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


@pytest.fixture
def links(queue, agent):
    """A sent survey's landing and unsubscribe paths, and a customer conversation path."""
    SurveyPolicy.objects.create(queue=queue, delay_minutes=0)
    closed = ticket_create(queue=queue, customer=CustomerFactory(), subject="Done", body="Hi", by=None, assignee=agent)
    ticket_close(ticket_id=closed.pk, reason=CloseReason.SOLVED, by=agent)
    invitation_send(invitation_id=SurveyInvitation.objects.get(ticket=closed).pk)
    token, ids = email_jobs.claim_due()  # the survey email is sent: its links are made then
    outbox_send(email_ids=ids, claim_token=token)
    survey_text = next(message.body for message in mail.outbox if message.subject.startswith("How did we do?"))
    landing = re.search(r"https?://[^/\s]+(/s/[^/\s]+/)", survey_text).group(1)
    token = token_mint(purpose=CONVERSATION_LINK_PURPOSE, target=closed, expires_at=timezone.now() + timedelta(days=9))
    conversation = reverse("support:conversation", args=[token])
    return {"landing": landing, "conversation": conversation, "ticket": closed}


def test_every_customer_page_answers_and_stores_with_the_cache_dead(dead_cache, links, queue):
    client = Client()
    landing, conversation = links["landing"], links["conversation"]
    token = landing.split("/")[2]
    answers = []

    def answer(call, expected_status):
        response, seconds = timed(call)
        answers.append((response.status_code, seconds))
        assert response.status_code == expected_status, (dead_cache, response.status_code)
        assert seconds < FAST_ENOUGH, (dead_cache, seconds)
        return response

    # the survey: landing page, a rating, the thanks page
    answer(lambda: client.get(landing + "?csat=4"), 200)
    answer(lambda: client.post(landing, {"csat": "4", "via": "person"}), 302)
    answer(lambda: client.get(reverse("surveys:thanks", args=[token])), 200)
    assert SurveyResponse.objects.get().csat == 4

    # unsubscribing: the page, its form, the one-click POST of a mail client
    answer(lambda: client.get(reverse("surveys:unsubscribe", args=[token])), 200)
    assert "You are unsubscribed" in answer(lambda: client.post(reverse("surveys:unsubscribe", args=[token])), 200).text
    answer(lambda: client.post(reverse("surveys:unsubscribe-one-click", args=[token])), 200)
    assert SurveyOptOut.objects.count() == 1

    # a new request through the public form
    answer(lambda: client.get(reverse("support:new")), 200)
    form = {"name": "Ada", "email": "ada@example.org", "queue": queue.pk, "subject": "Cache down", "message": "Hi!"}
    answer(lambda: client.post(reverse("support:new"), form), 302)
    answer(lambda: client.get(reverse("support:thanks")), 200)
    assert Ticket.objects.filter(subject="Cache down").exists()

    # a reply on the conversation page
    answer(lambda: client.get(conversation), 200)
    answer(lambda: client.post(conversation, {"body": "Still there?"}), 302)
    assert Message.objects.filter(ticket=links["ticket"], body="Still there?").exists()

    # each of them met the dead cache and went through (the last one is counted, the cache does not answer a ping)
    report = fail_open.cache_report()
    assert report["cache"] == "unreachable" and report["rate_limit_fail_open"]["requests"] == 1
    assert len(answers) == 11


def test_login_password_reset_api_and_healthz_answer_with_the_cache_dead(dead_cache, agent):
    client = Client()

    login, seconds = timed(lambda: client.post(reverse("login"), {"username": agent.username, "password": "pw"}))
    assert login.status_code == 302 and seconds < FAST_ENOUGH
    reset, seconds = timed(lambda: Client().post(reverse("password_reset"), {"email": agent.email}))
    assert reset.status_code == 302 and seconds < FAST_ENOUGH
    _, key = AuthToken.objects.create(agent)
    api, seconds = timed(lambda: Client().get("/api/v1/tickets/", HTTP_AUTHORIZATION=f"Token {key}"))
    assert api.status_code == 200 and seconds < FAST_ENOUGH
    anonymous, seconds = timed(lambda: Client().get("/api/schema/"))  # throttled per client IP
    # The schema's own generation takes about a second (more on a loaded machine): what the dead cache may add is
    # compared, against the same request made with the limiters' breaker open (no cache call).
    started = time.monotonic()
    Client().get("/api/schema/")
    generation = time.monotonic() - started
    assert anonymous.status_code == 200 and seconds - generation < FAST_ENOUGH

    # /healthz reports the cache, and stays 200 for it: beat, worker and mail are fine
    heartbeat_record(name="beat")
    heartbeat_record(name="worker")
    health, seconds = timed(lambda: client.get("/healthz"))
    assert health.status_code == 200 and seconds < FAST_ENOUGH
    assert health.json()["cache"] == "unreachable"


def test_after_a_cache_error_the_limiters_leave_the_cache_alone_for_a_while_and_count(
    settings, monkeypatch, caplog, queue
):
    settings.CACHES = redis_cache("redis://127.0.0.1:1/0")
    fail_open.outage_reset()
    now = [1000.0]
    monkeypatch.setattr(fail_open, "monotonic", lambda: now[0])
    checks = []  # the limiter's checks that reached the cache

    def counted(*args, **kwargs):
        checks.append(1)
        return is_ratelimited(*args, **kwargs)

    monkeypatch.setattr(ratelimit, "is_ratelimited", counted)
    client = Client()

    # a burst of requests while the cache is dead: one warning, one try of the cache, every request through
    with caplog.at_level("WARNING", logger="common.fail_open"):
        codes = [client.get(reverse("support:new")).status_code for _ in range(5)]
    assert codes == [200] * 5
    assert len(checks) == 1
    assert len(caplog.records) == 1 and "rate limits fail open" in caplog.text
    assert fail_open.cache_report()["rate_limit_fail_open"]["requests"] == 5

    # after the breaker's time the cache is tried again; still dead: no new warning
    now[0] += fail_open.RETRY_SECONDS
    caplog.clear()
    with caplog.at_level("WARNING", logger="common.fail_open"):
        assert client.get(reverse("support:new")).status_code == 200
    assert len(checks) == 2 and caplog.records == []

    # the cache answers again: one line with the burst's count, and the limits apply again
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.PUBLIC_RATE_LIMIT = "2/m"
    now[0] += fail_open.RETRY_SECONDS
    with caplog.at_level("WARNING", logger="common.fail_open"):
        codes = [client.get(reverse("support:new")).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert "6 request(s) went through without rate limits" in caplog.text
    assert fail_open.cache_report()["rate_limit_fail_open"]["failing_since"] is None
    fail_open.outage_reset()


def test_the_redis_cache_has_short_socket_timeouts():
    code = "import json; from helpdesk.settings import test as s; print(json.dumps(s.CACHES['default']['OPTIONS']))"
    env = {"PATH": os.environ["PATH"], "REDIS_URL": "redis://127.0.0.1:1/0"}
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], env=env, cwd=settings.BASE_DIR, capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr
    options = json.loads(result.stdout)
    assert 0 < options["socket_connect_timeout"] <= 0.25 and 0 < options["socket_timeout"] <= 0.25
