"""The outbox's retry rule against real SMTP replies (aiosmtpd) through Django's SMTP backend.

A refusal of the recipient or the message (RCPT, DATA) is about that email: 5xx fails it, 4xx retries it after the
backoff. Transport trouble (refused connection, 421 greeting, 535 to AUTH, TLS failure) spends no attempt and opens
the SMTP circuit breaker: nothing is claimed while it is open, one probe goes once it half-opens, the first success
closes it. Each claim is an attempt; an email past its kind's maximum age fails instead of going out late.
"""

import asyncio
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from aiosmtpd.smtp import AuthResult
from django.utils import timezone

from conftest import SmtpSink, free_port
from outbox import services
from outbox.kinds import email_kinds
from outbox.models import OutgoingEmail
from outbox.selectors import outbox_health
from outbox.tasks import send_outgoing_emails, sweep_outbox

Status = OutgoingEmail.Status
pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS"),  # a test server on localhost
]


def queue_email(**kwargs) -> OutgoingEmail:
    defaults = {"kind": "system", "to": "ada@example.org", "subject": "Hi", "text": "Hello"}
    return services.email_enqueue(**{**defaults, **kwargs})


def rows(*emails: OutgoingEmail) -> list[tuple[str, int]]:
    """(status, attempts) of each email, as stored now."""
    stored = OutgoingEmail.objects.in_bulk([email.pk for email in emails])
    return [(stored[email.pk].status, stored[email.pk].attempts) for email in emails]


def at(moment):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def beat_round(django_capture_on_commit_callbacks) -> Callable[[], int]:
    """One round of beat's sweep_outbox, and the send tasks it hands out run here as a worker runs them. Returns how
    many emails the sweep claimed."""

    def run() -> int:
        with (
            mock.patch.object(send_outgoing_emails, "delay", side_effect=send_outgoing_emails),
            django_capture_on_commit_callbacks(execute=True),
        ):
            return sweep_outbox()

    return run


# --- a refusal of this email ---------------------------------------------------------------------------------------


def test_a_recipient_refused_with_550_fails_that_email_once_and_the_batch_goes_on_over_the_same_connection(
    smtp_sink, beat_round
):
    smtp_sink.rcpt_responses = ["550 5.1.1 No such user"]
    bad, good = queue_email(to="bad@example.org"), queue_email(to="good@example.org")

    assert beat_round() == 2

    assert rows(bad, good) == [(Status.FAILED, 1), (Status.SENT, 1)]
    assert "550" in OutgoingEmail.objects.get(pk=bad.pk).last_error
    assert len(smtp_sink.peers) == 1  # the refusal was about that recipient: the connection carried on
    with at(timezone.now() + timedelta(days=1)):
        assert beat_round() == 0  # never tried again
    assert [envelope.rcpt_tos for envelope in smtp_sink.received] == [["good@example.org"]]
    assert services.smtp_breaker.state() is None  # closed: SMTP itself was fine


def test_a_recipient_refused_with_450_is_queued_with_backoff_and_the_batch_goes_on(smtp_sink, beat_round):
    smtp_sink.rcpt_responses = ["450 4.2.1 Mailbox busy"]
    busy, good = queue_email(to="busy@example.org"), queue_email(to="good@example.org")
    start = timezone.now()

    with at(start):
        assert beat_round() == 2

    assert rows(busy, good) == [(Status.QUEUED, 1), (Status.SENT, 1)]
    assert len(smtp_sink.peers) == 1
    stored = OutgoingEmail.objects.get(pk=busy.pk)
    assert "450" in stored.last_error
    assert stored.next_attempt_at == start + services.email_jobs.retry_delay(1)
    with at(stored.next_attempt_at - timedelta(seconds=1)):
        assert beat_round() == 0  # not before its backoff
    with at(stored.next_attempt_at):
        assert beat_round() == 1
    assert rows(busy) == [(Status.SENT, 2)]
    assert services.smtp_breaker.state() is None


def test_a_connection_the_server_dropped_between_two_emails_is_opened_again(smtp_server, beat_round):
    class DropsAfterEachMessage(SmtpSink):
        async def handle_DATA(self, server, session, envelope) -> str:
            asyncio.get_running_loop().call_later(0.05, server.transport.close)
            return await super().handle_DATA(server, session, envelope)

    sink = DropsAfterEachMessage()
    smtp_server(sink)
    first, second = queue_email(to="a@example.org"), queue_email(to="b@example.org")
    build = services.build_message

    def send_second_after_the_drop(email, connection=None):
        if email.pk == second.pk:
            threading.Event().wait(0.3)  # the server has hung up meanwhile
        return build(email, connection)

    with mock.patch.object(services, "build_message", send_second_after_the_drop):
        assert beat_round() == 2

    assert rows(first, second) == [(Status.SENT, 1), (Status.SENT, 1)]
    assert len(sink.peers) == 2
    assert services.smtp_breaker.state() is None


# --- transport trouble ---------------------------------------------------------------------------------------------


@pytest.fixture
def greeting_server() -> Iterator[Callable[[str], int]]:
    """A TCP server that answers every connection with the given greeting line and hangs up; returns its port."""
    servers: list[socket.socket] = []

    def start(greeting: str) -> int:
        server = socket.create_server(("127.0.0.1", 0))
        servers.append(server)

        def serve() -> None:
            while True:
                try:
                    client, _ = server.accept()
                except OSError:
                    return
                with client:
                    client.sendall(f"{greeting}\r\n".encode())

        threading.Thread(target=serve, daemon=True).start()
        return server.getsockname()[1]

    yield start
    for server in servers:
        server.close()


class Logins:
    """An aiosmtpd authenticator: refuses every login (535) while `refusing`, and counts the tries."""

    def __init__(self) -> None:
        self.refusing = True
        self.tries = 0

    def __call__(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        self.tries += 1
        return AuthResult(success=not self.refusing, handled=False)  # handled=False: aiosmtpd answers 535


def start_login_server(smtp_server, settings, logins: Logins) -> SmtpSink:
    sink = SmtpSink()
    smtp_server(sink, authenticator=logins, auth_required=True, auth_require_tls=False)
    settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = "desk", "secret"
    return sink


def break_smtp(trouble: str, *, settings, smtp_server, greeting_server) -> str:
    """Point the outbox at an SMTP server with `trouble`; returns a piece of the error it gives."""
    if trouble == "connection refused":
        smtp_server(SmtpSink())
        settings.EMAIL_PORT = free_port()  # nothing listens there
        return "Connection"
    if trouble == "421 on connect":
        smtp_server(SmtpSink())
        settings.EMAIL_PORT = greeting_server("421 4.3.2 Service not available, closing transmission channel")
        return "421"
    if trouble == "535 on AUTH":
        start_login_server(smtp_server, settings, Logins())
        return "535"
    assert trouble == "TLS failure"
    smtp_server(SmtpSink())
    settings.EMAIL_USE_SSL = True  # the server speaks plain SMTP: the TLS handshake fails
    return "SSL"


@pytest.mark.parametrize("trouble", ["connection refused", "421 on connect", "535 on AUTH", "TLS failure"])
def test_transport_trouble_opens_the_breaker_spends_no_attempt_and_a_probe_closes_it(
    trouble, settings, smtp_server, greeting_server, beat_round
):
    settings.OUTBOX_BATCH_SIZE = 2  # two send tasks: the second finds the breaker open and tries nothing
    settings.OUTBOX_BREAKER_BASE_SECONDS, settings.OUTBOX_BREAKER_MAX_SECONDS = 30, 300
    error = break_smtp(trouble, settings=settings, smtp_server=smtp_server, greeting_server=greeting_server)
    emails = [queue_email(to=f"c{i}@example.org") for i in range(3)]
    start = timezone.now()

    # the first round meets the trouble: every row back in the queue, no attempt spent, the breaker open
    with at(start):
        assert beat_round() == 3
    assert rows(*emails) == [(Status.QUEUED, 0)] * 3
    assert error in OutgoingEmail.objects.get(pk=emails[0].pk).last_error
    breaker = services.smtp_breaker.state()
    assert (breaker.failures, breaker.opened_at, breaker.retry_at) == (1, start, start + timedelta(seconds=30))

    # while it is open the sweep claims nothing
    for seconds in (15, 29):
        with at(start + timedelta(seconds=seconds)):
            assert beat_round() == 0
    assert rows(*emails) == [(Status.QUEUED, 0)] * 3

    # half-open: one probe; it meets the trouble again, so the breaker opens for twice as long
    with at(start + timedelta(seconds=30)):
        assert beat_round() == 1
        assert beat_round() == 0  # one probe at a time
    assert rows(*emails) == [(Status.QUEUED, 0)] * 3
    breaker = services.smtp_breaker.state()
    assert (breaker.failures, breaker.retry_at) == (2, start + timedelta(seconds=90))
    with at(start + timedelta(seconds=89)):
        assert beat_round() == 0

    # the server is back: the next probe is sent and closes the breaker, then the rest goes out
    sink = SmtpSink()
    smtp_server(sink)
    with at(start + timedelta(seconds=90)):
        assert beat_round() == 1
        assert services.smtp_breaker.state() is None
        assert beat_round() == 2
    assert rows(*emails) == [(Status.SENT, 1)] * 3
    assert sorted(e.rcpt_tos[0] for e in sink.received) == [e.to_email for e in emails]


# --- attempts and age ------------------------------------------------------------------------------------------------


def test_an_email_past_its_kinds_maximum_age_fails_with_a_clear_error_instead_of_going_out_late(mailoutbox, beat_round):
    survey = queue_email(kind="survey", subject="How did we do?")
    reply = queue_email(kind="reply_notification", subject="New reply")

    with at(timezone.now() + timedelta(hours=72, minutes=1)):  # unsent so long (e.g. a long outage)
        assert beat_round() == 1

    assert rows(survey, reply) == [(Status.FAILED, 0), (Status.SENT, 1)]
    error = OutgoingEmail.objects.get(pk=survey.pk).last_error
    assert error.startswith("Expired: not sent within the maximum age of its kind (survey: 72 h")
    assert [message.subject for message in mailoutbox] == ["New reply"]


def test_every_registered_kind_of_email_has_a_maximum_age():
    assert email_kinds.keys()
    assert all(services.email_jobs.max_age(kind.key) for kind in email_kinds)


def test_an_environment_variable_overrides_the_maximum_age_of_any_registered_kind(monkeypatch):
    monkeypatch.setenv("OUTBOX_MAX_AGE_HOURS_REPLY_NOTIFICATION", "5")

    email = queue_email(kind="reply_notification")

    assert services.email_jobs.max_age("reply_notification") == timedelta(hours=5)
    assert email.expires_at == email.next_attempt_at + timedelta(hours=5)
    assert services.email_jobs.max_age("system") == timedelta(days=1)  # the others keep their registration's


def test_an_admin_retry_of_an_expired_email_gives_it_a_fresh_maximum_age(mailoutbox, beat_round):
    survey = queue_email(kind="survey")
    later = timezone.now() + timedelta(days=10)
    with at(later):
        assert beat_round() == 0
        assert services.outbox_retry(email_id=survey.pk)
        assert beat_round() == 1

    assert rows(survey) == [(Status.SENT, 1)]
    assert OutgoingEmail.objects.get(pk=survey.pk).expires_at == later + services.email_jobs.max_age("survey")


# --- the acceptance check ------------------------------------------------------------------------------------


def test_smtp_refusing_logins_for_10_minutes_fails_no_row_spends_no_attempt_and_sending_resumes_by_itself(
    settings, smtp_server, beat_round
):
    settings.OUTBOX_BATCH_SIZE = 3
    settings.HEALTH_MAX_SMTP_DOWN_SECONDS = 300
    logins = Logins()
    sink = start_login_server(smtp_server, settings, logins)
    emails = [queue_email(to=f"before{i}@example.org") for i in range(5)]
    start = timezone.now()
    outage_ends = start + timedelta(minutes=10)
    sweep = timedelta(seconds=15)

    # beat sweeps every 15 s while the server refuses every login (535) for 10 minutes
    tick = start
    while tick < outage_ends:
        with at(tick):
            beat_round()
            if tick == start + timedelta(minutes=5):  # mail keeps being queued during the outage
                emails.append(queue_email(to="during@example.org"))
            assert rows(*emails) == [(Status.QUEUED, 0)] * len(emails), f"at {tick - start}"
            health = outbox_health()
            smtp_down = [text for text in health.problems + health.warnings if text.startswith("SMTP unreachable")]
            assert len(smtp_down) == 1, f"at {tick - start}"
            assert (smtp_down[0] in health.problems) is (tick - start > timedelta(seconds=300))
        tick += sweep
    assert not OutgoingEmail.objects.filter(status=Status.FAILED).exists()
    assert sink.received == []
    assert logins.tries <= 2 * 6  # one login per probe (each client tries 2 mechanisms), not one per sweep

    # then the server accepts logins again, and nobody does anything but beat
    logins.refusing = False
    while OutgoingEmail.objects.exclude(status=Status.SENT).exists():
        assert tick < outage_ends + timedelta(seconds=settings.OUTBOX_BREAKER_MAX_SECONDS) + 2 * sweep
        with at(tick):
            beat_round()
        tick += sweep

    assert rows(*emails) == [(Status.SENT, 1)] * len(emails)
    received = sorted(envelope.rcpt_tos[0] for envelope in sink.received)
    assert received == sorted(email.to_email for email in emails)  # each once
    with at(tick):
        assert outbox_health().smtp_unreachable_since is None
