import pytest

from inbound.models import InboundEmail
from inbound.routing import inbound_route
from inbound.store import inbound_store
from tickets.models import Message, Ticket

from .mail import email_bytes

pytestmark = pytest.mark.django_db


def _deliver(queue, raw, recipient=None):
    row, created = inbound_store(raw=raw, queue=queue, channel="smtp", recipient=recipient or queue.reply_from_email)
    if created:
        inbound_route(email_id=row.pk)
    row.refresh_from_db()
    return row, created


def test_new_ticket_then_reply_threads(queue, agent, mailoutbox):
    row, _ = _deliver(queue, email_bytes(to=queue.reply_from_email))
    assert row.status == InboundEmail.Status.ROUTED, row.error
    ticket = Ticket.objects.get()
    assert ticket.customer.email == "jo@customer.example"
    from tickets.services import message_add

    reply = message_add(ticket_id=ticket.pk, kind=Message.Kind.PUBLIC_REPLY, body="Unplug it.", by=agent)
    ref = ticket.mail_refs.get(purpose="reply")
    raw = email_bytes(
        subject=f"Re: [{ticket.reference}] Printer on fire",
        body="Done, thanks!\n\nOn Mon, Support wrote:\n> Unplug it.\n",
        headers={"In-Reply-To": ref.message_id},
    )
    row2, _ = _deliver(queue, raw)
    assert row2.status == InboundEmail.Status.ROUTED, row2.error
    last = ticket.messages.last()
    assert last.body == "Done, thanks!"
    assert reply.pk != last.pk
    again, created = _deliver(queue, raw)
    assert not created and again.pk == row2.pk
    assert ticket.messages.count() == 3
