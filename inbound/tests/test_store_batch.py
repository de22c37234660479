"""inbound_store_many (the gateway's group commit) and route_inbound_emails (one routing task for a stored batch)."""

from __future__ import annotations

from email import policy
from email.parser import BytesHeaderParser

import pytest

from inbound import store, tasks
from inbound.models import InboundEmail
from inbound.parsing import header_text
from inbound.store import Delivery, inbound_store, inbound_store_many
from tickets.models import Ticket
from tickets.tests.factories import QueueFactory

from .mail import email_bytes

pytestmark = pytest.mark.django_db
Row = InboundEmail.Status


@pytest.fixture
def route_calls(monkeypatch) -> list[tuple[int, ...]]:
    """The ids of each route_later call (instead of sending the Celery task)."""
    calls: list[tuple[int, ...]] = []
    monkeypatch.setattr(store, "route_later", lambda *ids: calls.append(ids))
    return calls


def delivery(queue, raw: bytes) -> Delivery:
    return Delivery(raw, queue, "smtp", queue.reply_from_email, "jo@customer.example")


def test_a_batch_is_stored_with_one_routing_task_and_a_duplicate_in_it_is_one_row(
    queue, route_calls, django_capture_on_commit_callbacks
):
    other = QueueFactory()
    first, second = email_bytes(subject="First"), email_bytes(subject="Second")
    batch = [delivery(queue, first), delivery(queue, second), delivery(queue, first), delivery(other, first)]
    with django_capture_on_commit_callbacks(execute=True):
        results = inbound_store_many(batch)
    rows = [row for row, _ in results]
    assert [created for _, created in results] == [True, True, False, True]
    assert rows[0].pk == rows[2].pk  # the same email twice in the batch: one row
    assert rows[3].pk != rows[0].pk  # the same email for another queue: its own row
    assert InboundEmail.objects.count() == 3
    assert route_calls == [(rows[0].pk, rows[1].pk, rows[3].pk)]  # one task for the batch
    stored = InboundEmail.objects.get(pk=rows[1].pk)
    assert (stored.subject, stored.queue, stored.raw_bytes()) == ("Second", queue, second)


def test_a_batch_with_an_email_stored_before_is_stored_one_by_one(
    queue, route_calls, settings, tmp_path, django_capture_on_commit_callbacks
):
    """A redelivery (or the same email stored meanwhile by another process) violates the uniqueness: the batch is
    rolled back and stored with inbound_store, each alone, leaving no file behind for the rolled back rows."""
    settings.INBOUND_RAW_INLINE_MAX_BYTES = 10  # every raw email in file storage
    old, new = email_bytes(subject="Old"), email_bytes(subject="New")
    with django_capture_on_commit_callbacks(execute=True):
        before, _ = inbound_store(raw=old, queue=queue, channel="imap")
        results = inbound_store_many([delivery(queue, old), delivery(queue, new)])
    assert results[0] == (before, False)
    assert results[1][1] and results[1][0].raw_bytes() == new
    assert InboundEmail.objects.count() == 2
    assert route_calls == [(before.pk,), (results[1][0].pk,)]  # a single new row: the single task
    assert len(list(tmp_path.rglob("*.eml"))) == 2


def test_route_inbound_emails_routes_every_id_and_one_failing_stops_none(queue, monkeypatch):
    ids = [inbound_store(raw=email_bytes(subject=f"Email {i}"), queue=queue, channel="smtp")[0].pk for i in range(3)]
    route = tasks.inbound_route

    def failing_for_second(*, email_id):
        if email_id == ids[1]:
            raise RuntimeError("database went away")
        return route(email_id=email_id)

    monkeypatch.setattr(tasks, "inbound_route", failing_for_second)
    assert tasks.route_inbound_emails(ids) == [Row.ROUTED, "error", Row.ROUTED]
    statuses = dict(InboundEmail.objects.values_list("pk", "status"))
    assert [statuses[pk] for pk in ids] == [Row.ROUTED, Row.RECEIVED, Row.ROUTED]  # the sweep sends it again
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == ["Email 0", "Email 2"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("Message-ID", "<1.abc+x@bench.example.org>"),
        ("Message-ID", "<no-right-side>"),
        ("Message-ID", "<a@b> (comment)"),
        ("Message-ID", "a@b"),
        ("From", "Customer 1  <customer1@example.org>"),
        ("From", "customer1@example.org"),
        ("From", "Jo Q. Public <jo@example.org>"),
        ("From", '"Public, Jo" <jo@example.org>'),
        ("From", "Jo<jo@example.org>"),
        ("From", "<jo@example.org>"),
        ("From", "=?utf-8?q?J=C3=B6?= <jo@example.org>"),
        ("Subject", "Re:  Printer\r\n on fire (again) [#12] <urgent>"),
        ("Subject", "=?utf-8?b?w4RyZ2Vy?="),
        ("Subject", "Caf\udcc3\udca9"),  # 8-bit bytes, as the parser keeps them
    ],
)
def test_a_header_is_read_as_the_default_policy_reads_it(name, value):
    """The store reads plain values without the default policy's parse: the same text either way."""
    raw = f"{name}: {value}\r\nTo: desk@example.org\r\n\r\nHello\r\n".encode("utf-8", "surrogateescape")
    parsed = BytesHeaderParser(policy=policy.default).parsebytes(raw)
    headers = store._received(delivery(QueueFactory.build(pk=1), raw)).headers
    assert store._header(headers, name.lower()) == header_text(parsed, name)
