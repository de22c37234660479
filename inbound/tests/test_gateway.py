"""The mail gateway over a real socket: inbound.gateway started in this process, a real SMTP/LMTP client, the test
database committed (transactional_db: the gateway's threads use connections of their own)."""

from __future__ import annotations

import smtplib
import socket
import threading
import time
from collections.abc import Callable

import pytest
from django.db import OperationalError

from conftest import free_port, wait_until
from inbound import store
from inbound.gateway import Gateway
from inbound.models import InboundEmail
from inbound.routing import inbound_route
from inbound.store import Delivery
from tickets.mailthread import reply_address
from tickets.models import Message, Ticket
from tickets.tests.factories import QueueFactory

from .mail import email_bytes

SENDER = "jo@customer.example"


def wire(**kwargs) -> bytes:
    """A test email with the CRLF line ends of SMTP (smtplib sends bytes as they are)."""
    return email_bytes(**kwargs).replace(b"\n", b"\r\n")


@pytest.fixture
def routed_later(monkeypatch) -> list[int]:
    """The ids the store asked to have routed (instead of sending the Celery task); route them with `route_all`."""
    ids: list[int] = []
    monkeypatch.setattr(store, "route_later", lambda *email_ids: ids.extend(email_ids))
    return ids


def route_all(ids: list[int]) -> None:
    while ids:
        inbound_route(email_id=ids.pop(0))


@pytest.fixture
def start_gateway(transactional_db, routed_later):
    """`start_gateway(lmtp=False)`: a gateway on a free port of 127.0.0.1, stopped after the test."""
    gateways: list[Gateway] = []

    def start(*, lmtp: bool = False) -> Gateway:
        gateway = Gateway(host="127.0.0.1", port=free_port(), lmtp=lmtp, lookup_threads=2)
        gateway.start()
        gateways.append(gateway)
        return gateway

    yield start
    for gateway in gateways:
        gateway.stop()


@pytest.fixture
def gateway(start_gateway) -> Gateway:
    return start_gateway()


def smtp(gateway: Gateway) -> smtplib.SMTP:
    return smtplib.SMTP(gateway.host, gateway.port, timeout=10)


def test_an_email_becomes_a_ticket_and_a_reply_to_its_reply_address_joins_it(gateway, queue, routed_later):
    other = QueueFactory()
    raw = wire(sender=f"Jo <{SENDER}>", to=other.reply_from_email)  # To: names another queue
    with smtp(gateway) as client:
        assert client.sendmail(SENDER, [queue.reply_from_email], raw) == {}
    row = InboundEmail.objects.get()
    assert (row.queue, row.channel, row.recipient, row.envelope_sender) == (
        queue,
        "smtp",
        queue.reply_from_email,
        SENDER,
    )
    assert row.raw_bytes() == raw  # as received
    assert routed_later == [row.pk]
    route_all(routed_later)
    ticket = Ticket.objects.get()
    assert (ticket.queue, ticket.customer.email, ticket.subject) == (queue, SENDER, "Printer on fire")

    reply = wire(sender=SENDER, to="someone@else.example", subject="Re: Printer on fire", body="Still burning")
    with smtp(gateway) as client:
        assert client.sendmail(SENDER, [reply_address(ticket)], reply) == {}
    route_all(routed_later)
    assert ticket.messages.order_by("pk").last().body == "Still burning"
    assert Ticket.objects.count() == 1


def failing_for(bad_queue):
    """inbound_store_many, raising for a batch with a copy for `bad_queue` (as for an email the database refuses)."""

    def store_many(deliveries):
        if any(delivery.queue == bad_queue for delivery in deliveries):
            raise RuntimeError("disk full")
        return store.inbound_store_many(deliveries)

    return store_many


def test_the_same_email_delivered_twice_is_stored_and_added_once(gateway, queue, routed_later):
    raw = wire(sender=SENDER, to=queue.reply_from_email)
    for _ in range(2):
        with smtp(gateway) as client:
            assert client.sendmail(SENDER, [queue.reply_from_email], raw) == {}
        route_all(routed_later)
    assert InboundEmail.objects.count() == 1
    assert Ticket.objects.count() == 1
    assert Message.objects.filter(ticket__queue=queue).count() == 1


def test_an_unknown_recipient_is_refused_at_rcpt(gateway, queue):
    with smtp(gateway) as client:
        client.ehlo()
        assert client.mail(SENDER)[0] == 250
        assert client.rcpt("nobody@support.example.com") == (550, b"5.1.1 No such mailbox here")
        client.rset()
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            client.sendmail(SENDER, ["queue-x@elsewhere.example"], wire())
    assert not InboundEmail.objects.exists()


def test_the_queue_of_an_address_is_looked_up_again_after_the_cache_time(gateway, queue, monkeypatch):
    lookups: list[str] = []

    def counted(address):
        lookups.append(address)
        return store.queue_for_recipient(address)

    monkeypatch.setattr("inbound.gateway.queue_for_recipient", counted)
    monkeypatch.setattr("inbound.gateway.RECIPIENT_CACHE_SECONDS", 0.5)
    with smtp(gateway) as client:
        for subject in ("One", "Two"):
            assert client.sendmail(SENDER, [queue.reply_from_email], wire(subject=subject)) == {}
        assert lookups == [queue.reply_from_email]  # the second RCPT did not ask the database
        queue.reply_from_email = "renamed@support.example.com"
        queue.save()
        time.sleep(0.5)
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            client.sendmail(SENDER, [lookups[0]], wire(subject="Three"))
    assert InboundEmail.objects.count() == 2


def test_a_declared_size_over_the_limit_is_refused_at_mail_from(settings, start_gateway, queue):
    settings.INBOUND_MAX_MESSAGE_BYTES = 5000
    gateway = start_gateway()
    with smtp(gateway) as client:
        client.ehlo()
        assert client.esmtp_features["size"] == "5000"
        code, _ = client.mail(SENDER, options=["SIZE=5001"])
        assert code == 552
        client.rset()
        assert client.mail(SENDER, options=["SIZE=5000"])[0] == 250


def test_a_message_over_the_limit_is_refused_after_data(settings, start_gateway, queue):
    settings.INBOUND_MAX_MESSAGE_BYTES = 5000
    gateway = start_gateway()
    with smtp(gateway) as client:
        client.ehlo()
        assert client.mail(SENDER)[0] == 250  # no SIZE declared
        assert client.rcpt(queue.reply_from_email)[0] == 250
        code, _ = client.data(wire(body=("x" * 70 + "\n") * 100))
        assert code == 552
        # the session goes on: a message within the limit is taken
        assert client.sendmail(SENDER, [queue.reply_from_email], wire()) == {}
    assert InboundEmail.objects.count() == 1


def test_a_store_failure_answers_451_so_the_mta_retries(gateway, queue, monkeypatch, routed_later):
    def broken(deliveries):
        raise RuntimeError("database is down")

    monkeypatch.setattr("inbound.gateway.inbound_store_many", broken)
    with smtp(gateway) as client, pytest.raises(smtplib.SMTPDataError) as refused:
        client.sendmail(SENDER, [queue.reply_from_email], wire())
    assert refused.value.smtp_code == 451
    assert refused.value.smtp_error == b"4.3.0 Could not store the message, try again later"
    assert not InboundEmail.objects.exists() and not routed_later


def test_smtp_with_two_recipients_answers_250_only_when_both_are_stored(gateway, queue, monkeypatch):
    other = QueueFactory()
    raw = wire(sender=SENDER)

    monkeypatch.setattr("inbound.gateway.inbound_store_many", failing_for(other))
    with smtp(gateway) as client, pytest.raises(smtplib.SMTPDataError) as refused:
        client.sendmail(SENDER, [queue.reply_from_email, other.reply_from_email], raw)
    assert refused.value.smtp_code == 451
    assert list(InboundEmail.objects.values_list("queue", flat=True)) == [queue.pk]

    monkeypatch.undo()  # the MTA tries again: the copy stored already is not stored twice
    with smtp(gateway) as client:
        assert client.sendmail(SENDER, [queue.reply_from_email, other.reply_from_email], raw) == {}
    assert sorted(InboundEmail.objects.values_list("queue", flat=True)) == sorted([queue.pk, other.pk])


def test_a_bounce_has_an_empty_envelope_sender(gateway, queue):
    with smtp(gateway) as client:
        assert client.sendmail("<>", [queue.reply_from_email], wire(sender="MAILER-DAEMON@mx.example")) == {}
    assert InboundEmail.objects.get().envelope_sender == ""


# --- group commit: the copies waiting are stored in one transaction ----------------------------------------------


def deliver_as_one_batch(
    gateway: Gateway, queue, monkeypatch, subjects: list[str], fail: Callable[[list[Delivery]], None] | None = None
) -> tuple[dict[str, int], list[int]]:
    """Send an email per subject, each from a session of its own (a thread), while the store thread is held on a
    first email ("Held"): they wait, then are stored as one batch (`fail` may raise for a batch after the first).
    Returns each subject's reply to DATA, and the size of each batch inbound_store_many was given."""
    sizes: list[int] = []
    gate = threading.Event()

    def held(deliveries):
        sizes.append(len(deliveries))
        if len(sizes) == 1:
            gate.wait(timeout=10)
        elif fail is not None:
            fail(deliveries)
        return store.inbound_store_many(deliveries)

    monkeypatch.setattr("inbound.gateway.inbound_store_many", held)
    replies: dict[str, int] = {}

    def send(subject: str) -> None:
        with smtp(gateway) as client:
            try:
                client.sendmail(SENDER, [queue.reply_from_email], wire(subject=subject))
                replies[subject] = 250
            except smtplib.SMTPDataError as refused:
                replies[subject] = refused.smtp_code

    threads = [threading.Thread(target=send, args=(subject,)) for subject in ["Held", *subjects]]
    threads[0].start()
    wait_until(lambda: sizes, timeout=10, what="the first email in the store")
    for thread in threads[1:]:
        thread.start()
    waiting = gateway.store_thread._waiting  # the copies queued for the store thread
    wait_until(lambda: waiting.qsize() == len(subjects), timeout=10, what="every session's email waiting")
    gate.set()
    for thread in threads:
        thread.join(timeout=20)
    return replies, sizes


def test_concurrent_sessions_are_stored_in_one_batch_and_each_answered_250(gateway, queue, monkeypatch, routed_later):
    subjects = [f"Email {i}" for i in range(5)]
    replies, sizes = deliver_as_one_batch(gateway, queue, monkeypatch, subjects)
    assert replies == dict.fromkeys(["Held", *subjects], 250)
    assert sizes == [1, 5]
    rows = InboundEmail.objects.all()
    assert sorted(rows.values_list("subject", flat=True)) == sorted(["Held", *subjects])
    assert sorted(routed_later) == sorted(rows.values_list("pk", flat=True))


@pytest.mark.parametrize(
    ("error", "batches"),
    [
        (OperationalError("server closed the connection"), [1, 5]),  # unreachable: each alone would fail alike
        (RuntimeError("disk full"), [1, 5, 1, 1, 1, 1, 1]),  # tried again each alone, failing alike
    ],
)
def test_a_batch_whose_store_fails_answers_451_to_each_session_and_stores_nothing(
    gateway, queue, monkeypatch, routed_later, error, batches
):
    def failing(deliveries):
        raise error

    subjects = [f"Email {i}" for i in range(5)]
    replies, sizes = deliver_as_one_batch(gateway, queue, monkeypatch, subjects, fail=failing)
    assert replies == {"Held": 250, **dict.fromkeys(subjects, 451)}
    assert sizes == batches
    assert list(InboundEmail.objects.values_list("subject", flat=True)) == ["Held"]
    assert len(routed_later) == 1


def test_an_email_the_database_refuses_does_not_turn_its_batch_away(gateway, queue, monkeypatch):
    def refusing_poison(deliveries):
        if any(b"Poison" in delivery.raw for delivery in deliveries):
            raise ValueError("A string literal cannot contain NUL (0x00) characters.")

    subjects = ["One", "Poison", "Two", "Three"]
    replies, sizes = deliver_as_one_batch(gateway, queue, monkeypatch, subjects, fail=refusing_poison)
    assert replies == {"Held": 250, "One": 250, "Poison": 451, "Two": 250, "Three": 250}
    assert sizes == [1, 4, 1, 1, 1, 1]
    assert sorted(InboundEmail.objects.values_list("subject", flat=True)) == ["Held", "One", "Three", "Two"]


def test_stopping_with_a_store_under_way_finishes_it_and_answers_nobody(transactional_db, queue, monkeypatch):
    """The sessions end unanswered (the MTA keeps the email: a redelivery is a no-op); the store thread finishes its
    batch and ends without an error although the event loop is closed."""
    monkeypatch.setattr(store, "route_later", lambda *ids: None)
    gate, held = threading.Event(), threading.Event()

    def held_store(deliveries):
        held.set()
        gate.wait(timeout=10)
        return store.inbound_store_many(deliveries)

    monkeypatch.setattr("inbound.gateway.inbound_store_many", held_store)
    errors: list[BaseException] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: errors.append(args.exc_value))
    gateway = Gateway(host="127.0.0.1", port=free_port(), lookup_threads=2)
    gateway.start()

    def send() -> None:
        with smtp(gateway) as client, pytest.raises(smtplib.SMTPServerDisconnected):
            client.sendmail(SENDER, [queue.reply_from_email], wire())

    sender = threading.Thread(target=send)
    sender.start()
    assert held.wait(timeout=10)
    stopping = threading.Thread(target=gateway.stop)
    stopping.start()
    sender.join(timeout=10)  # the session ended, unanswered
    gate.set()
    stopping.join(timeout=20)
    assert not stopping.is_alive() and not gateway.store_thread._thread.is_alive()
    assert not errors
    assert InboundEmail.objects.count() == 1


# --- LMTP: one reply per accepted recipient after DATA (RFC 2033) ------------------------------------------------


class LineClient:
    """A raw LMTP client that reads every reply line (smtplib.LMTP reads one reply after DATA, whatever the number
    of recipients)."""

    def __init__(self, gateway: Gateway) -> None:
        self.sock = socket.create_connection((gateway.host, gateway.port), timeout=10)
        self.file = self.sock.makefile("rb")

    def reply(self) -> str:
        """One reply (the last line of a multi-line one), e.g. "250 2.0.0 Stored"."""
        while True:
            line = self.file.readline().decode().rstrip("\r\n")
            assert line, "connection closed"
            if line[3:4] != "-":
                return line

    def command(self, line: str) -> str:
        self.sock.sendall(line.encode() + b"\r\n")
        return self.reply()

    def close(self) -> None:
        self.file.close()
        self.sock.close()


def lmtp_deliver(gateway: Gateway, recipients: list[str], raw: bytes) -> tuple[list[str], list[str]]:
    """(RCPT replies, replies after the final "."): every line the server sent, then QUIT answered 221 proves that
    no further reply was pending."""
    client = LineClient(gateway)
    try:
        assert client.reply().startswith("220")
        assert client.command("LHLO client.example").startswith("250")
        assert client.command(f"MAIL FROM:<{SENDER}>").startswith("250")
        rcpt_replies = [client.command(f"RCPT TO:<{address}>") for address in recipients]
        assert client.command("DATA").startswith("354")
        client.sock.sendall(raw + b".\r\n")
        data_replies = [client.reply() for reply in rcpt_replies if reply.startswith("250")]
        assert client.command("QUIT").startswith("221")
        return rcpt_replies, data_replies
    finally:
        client.close()


def test_lmtp_refuses_an_unknown_recipient_and_answers_once_for_the_other(start_gateway, queue):
    gateway = start_gateway(lmtp=True)
    rcpt, data = lmtp_deliver(gateway, [queue.reply_from_email, "nobody@support.example.com"], wire())
    assert rcpt == ["250 2.1.5 OK", "550 5.1.1 No such mailbox here"]
    assert data == ["250 2.0.0 Stored"]
    row = InboundEmail.objects.get()
    assert (row.queue, row.channel) == (queue, "lmtp")


def test_lmtp_answers_once_per_recipient_in_rcpt_order(start_gateway, queue, monkeypatch):
    gateway = start_gateway(lmtp=True)
    other, third = QueueFactory(), QueueFactory()
    rcpt, data = lmtp_deliver(gateway, [queue.reply_from_email, other.reply_from_email], wire())
    assert rcpt == ["250 2.1.5 OK"] * 2
    assert data == ["250 2.0.0 Stored"] * 2
    assert sorted(InboundEmail.objects.values_list("queue", "recipient")) == sorted(
        [(queue.pk, queue.reply_from_email), (other.pk, other.reply_from_email)]
    )

    monkeypatch.setattr("inbound.gateway.inbound_store_many", failing_for(other))
    _, data = lmtp_deliver(gateway, [other.reply_from_email, third.reply_from_email], wire())
    assert data == ["451 4.3.0 Could not store the message, try again later", "250 2.0.0 Stored"]
    assert InboundEmail.objects.filter(queue=third).count() == 1
    assert InboundEmail.objects.filter(queue=other).count() == 1  # the first email only
