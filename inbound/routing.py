"""Routing a stored email: to a ticket, a new ticket, held for an agent, or ignored. Tickets change only through
tickets.services.

Trust (a reply joins a ticket only when it is very likely the customer):
- A reference to the ticket that only a recipient of our email can have — In-Reply-To/References naming one of our
  Message-IDs (random), or the ticket's reply address (HMAC) as the envelope recipient — and a From that is the
  ticket's customer or an address an agent copied on it: added to the ticket.
- A `[HD-000123]` subject tag with that From, or a reference with another From: held for an agent ("unverified
  message" on the ticket page), unless a trusted receiving host's Authentication-Results says DMARC passed for the
  From domain (then a subject tag and the customer's From are enough).
- The addresses in the Cc of the customer's own emails are copied on the ticket (TicketCC).
- Anything else starts a new ticket (an acknowledgement, Auto-Submitted: auto-replied, at most
  INBOUND_ACKS_PER_SENDER_PER_DAY per sender).
An email whose From names no address is the envelope sender's (MAIL FROM), if any; with neither it is ignored.
Automatic emails (RFC 3834: Auto-Submitted, X-Autoreply, Precedence bulk/junk/list, List-Id, …) and our own emails
coming back never create or reopen a ticket and are never answered; X-Auto-Response-Suppress alone (Outlook sets it
on ordinary mail) only stops the acknowledgement. Bounces: only a DSN whose Action is failed with a 5.x.x status,
citing one of our Message-IDs, and naming that email's recipient puts the address on the outbox's suppression list.
A Message-ID an earlier email in the queue had (other bytes): from the same From, a redelivery of the first, routed
nowhere; from another From, held. An agent's forward is the original sender's ticket only when a trusted receiving
host says DMARC passed for the agent's domain; otherwise it is held.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import timedelta
from email.utils import parseaddr

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from outbox.models import OutgoingEmail
from outbox.services import suppression_add
from tickets.email_in import EmailDetails
from tickets.email_kinds import TicketEmail
from tickets.mailthread import base_address, reply_address_ticket_id
from tickets.models import Customer, Message, Queue, Status, Ticket, TicketMailRef
from tickets.notifications import request_confirmation_enqueue
from tickets.selectors import user_can_work_in_queue
from tickets.services import customer_get_or_create, message_add, ticket_cc_add, ticket_create

from .models import InboundEmail
from .parsing import Dsn, ParsedEmail, ParseError, parse

logger = logging.getLogger(__name__)
RowStatus = InboundEmail.Status
SURVEY_PURPOSE = "survey"  # replies to survey emails are kept with the ticket, which stays closed


@dataclass(frozen=True)
class Outcome:
    status: str
    text: str
    ticket: Ticket | None = None
    message: Message | None = None
    first: InboundEmail | None = None  # the earlier delivery a redelivery repeats


def trusted_sender(ticket: Ticket, address: str) -> bool:
    address = address.lower()
    return address == ticket.customer.email.lower() or ticket.ccs.filter(email__iexact=address).exists()


def _referenced_ticket(row: InboundEmail, parsed: ParsedEmail) -> tuple[Ticket | None, str]:
    """The ticket a reference only a recipient can have points at, and the purpose of our email it answers."""
    if parsed.referenced_ids:
        ref = (
            TicketMailRef.objects.filter(message_id__in=parsed.referenced_ids)
            .select_related("ticket__customer", "ticket__queue")
            .order_by("-created_at")
            .first()
        )
        if ref is not None:
            return ref.ticket, ref.purpose
    ticket_id = reply_address_ticket_id(row.recipient)
    if ticket_id is not None:
        return Ticket.objects.select_related("customer", "queue").filter(pk=ticket_id).first(), ""
    return None, ""


def _details(parsed: ParsedEmail, *, purpose: str = "", full: bool = True) -> EmailDetails:
    return EmailDetails(
        message_id=parsed.message_id,
        full_body=parsed.text if full and parsed.text != parsed.reply_text else "",
        reply_to_purpose=purpose,
        files=parsed.files,
    )


def _body(text: str, parsed: ParsedEmail) -> str:
    return text.strip() or ("(attachments only)" if parsed.files else "(no text)")


def ticket_from_email(
    queue: Queue, parsed: ParsedEmail, *, follows: Ticket | None = None, by: User | None = None
) -> Outcome:
    """A new ticket of the email's sender (forwarded by the agent `by`: of its original sender), acknowledged as
    routing acknowledges a new request: how routing starts a ticket, and how an agent makes one of a held email."""
    sender_email, sender_name, text = parsed.from_email, parsed.from_name, parsed.text
    if by is not None and parsed.forwarded is not None:  # an agent forwarded a customer's email
        sender_email, sender_name, text = parsed.forwarded.email, parsed.forwarded.name, parsed.forwarded.text
    customer = customer_get_or_create(email=sender_email, name=sender_name)
    ticket = ticket_create(
        queue=queue,
        customer=customer,
        subject=parsed.subject or "(no subject)",
        body=_body(text, parsed),
        by=by,
        email=_details(parsed, full=False),
        follows=follows,
    )
    if by is None:
        _ccs_keep(ticket, parsed)
    if by is None and not parsed.no_auto_reply and _may_acknowledge(customer):
        request_confirmation_enqueue(ticket=ticket, auto_reply=True)
    how = f"for {customer.email}, forwarded by {by.get_username()}" if by else f"from {customer.email}"
    after = f", following {follows.reference} (closed past its reopen window)" if follows else ""
    return Outcome(RowStatus.ROUTED, f"New ticket {ticket.reference} {how}{after}", ticket, ticket.messages.first())


def _ccs_keep(ticket: Ticket, parsed: ParsedEmail) -> None:
    """The customer's email copied these addresses: copy them on the ticket (not our own queues' addresses)."""
    ours = {address.lower() for address in Queue.objects.values_list("reply_from_email", flat=True)}
    for address in parsed.copied:
        if base_address(address) not in ours and address.lower() != ticket.customer.email.lower():
            ticket_cc_add(ticket_id=ticket.pk, email=address, by=None)


def _may_acknowledge(customer: Customer) -> bool:
    since = timezone.now() - timedelta(days=1)
    sent = OutgoingEmail.objects.filter(
        kind=TicketEmail.CONFIRMATION, to_email__iexact=customer.email, created_at__gte=since
    ).count()
    return sent < settings.INBOUND_ACKS_PER_SENDER_PER_DAY


def message_add_from_email(ticket: Ticket, parsed: ParsedEmail, *, purpose: str) -> Outcome:
    """Add a trusted sender's email to the ticket: reopening it within its queue's reopen window, kept with it
    closed when it answers a survey email, or a new linked ticket after the window."""
    sender = (
        ticket.customer
        if parsed.from_email.lower() == ticket.customer.email.lower()
        else customer_get_or_create(email=parsed.from_email, name=parsed.from_name)
    )
    is_survey_reply = purpose == SURVEY_PURPOSE
    window_start = timezone.now() - timedelta(days=ticket.queue.reopen_window_days)
    if ticket.status == Status.CLOSED and not is_survey_reply and ticket.closed_at and ticket.closed_at < window_start:
        return ticket_from_email(ticket.queue, parsed, follows=ticket)
    message = message_add(
        ticket_id=ticket.pk,
        kind=Message.Kind.CUSTOMER_MESSAGE,
        body=_body(parsed.reply_text, parsed),
        customer=sender,
        email=_details(parsed, purpose=purpose),
        reopen=not is_survey_reply,
    )
    if sender == ticket.customer:
        _ccs_keep(ticket, parsed)
    what = "reply to the survey" if is_survey_reply else "reply"
    return Outcome(RowStatus.ROUTED, f"Added to {ticket.reference} as a {what}", ticket, message)


def _bounce(dsn: Dsn) -> Outcome:
    """Suppress an address only when the email the DSN cites went to it: anyone holding one of our Message-IDs could
    otherwise silence any customer."""
    sent_to = {
        address.lower()
        for address in OutgoingEmail.objects.filter(message_id=dsn.original_message_id).values_list(
            "to_email", flat=True
        )
    }
    if not sent_to:
        return Outcome(RowStatus.IGNORED, "Delivery report about no email of ours: not acted on")
    failed = [r for r in dsn.recipients if r.action == "failed" and r.status.startswith("5")]
    if not failed:
        states = ", ".join(f"{r.recipient} {r.action} {r.status}".strip() for r in dsn.recipients)
        return Outcome(RowStatus.IGNORED, f"Delivery report recorded, not acted on ({states})")
    strangers = [r.recipient for r in failed if r.recipient.lower() not in sent_to]
    if strangers:
        return Outcome(RowStatus.IGNORED, f"Bounce recorded, not acted on: {', '.join(strangers)} was not sent it")
    for recipient in failed:
        suppression_add(
            email=recipient.recipient,
            reason=f"{recipient.status} {recipient.diagnostic}".strip(),
            bounced_message_id=dsn.original_message_id,
        )
    return Outcome(RowStatus.IGNORED, "Bounce: " + ", ".join(r.recipient for r in failed) + " added to suppressions")


def _ours(queue: Queue, parsed: ParsedEmail) -> bool:
    """One of our own emails came back (a loop through a forwarding rule, or a queue writing to another)."""
    if parsed.message_id and OutgoingEmail.objects.filter(message_id=parsed.message_id).exists():
        return True
    return Queue.objects.filter(reply_from_email__iexact=parsed.from_email).exists()


def forwarding_agent(queue: Queue, parsed: ParsedEmail) -> User | None:
    if parsed.forwarded is None:
        return None
    agent = User.objects.filter(email__iexact=parsed.from_email, is_active=True).first()
    return agent if agent is not None and user_can_work_in_queue(user=agent, queue_id=queue.pk) else None


def _redelivery(row: InboundEmail, parsed: ParsedEmail) -> Outcome | None:
    """An earlier email in the queue had this Message-ID (other bytes, or the store had made it one row): the same
    From makes this a redelivery of the first (routed nowhere), another From is held. None when it is the first."""
    if not row.message_id:
        return None
    first = (
        InboundEmail.objects.filter(queue_id=row.queue_id, message_id=row.message_id, pk__lt=row.pk)
        .select_related("ticket")
        .order_by("pk")
        .first()
    )
    if first is None:
        return None
    if parseaddr(first.from_address)[1].lower() == parseaddr(row.from_address)[1].lower():
        return Outcome(RowStatus.REDELIVERY, f"Redelivery of inbound email #{first.pk}: routed nowhere", first=first)
    where = f" on {first.ticket.reference}" if first.ticket else ""
    return Outcome(RowStatus.HELD, f"Held{where}: the Message-ID of #{first.pk}, from another sender", first.ticket)


def email_read(row: InboundEmail) -> ParsedEmail:
    """The stored email parsed; when its From names no address, the envelope sender (MAIL FROM) is its sender."""
    parsed = parse(row.raw_bytes())
    if not parsed.from_email and "@" in row.envelope_sender:
        return replace(parsed, from_email=row.envelope_sender.strip().strip("<>"))
    return parsed


def route(row: InboundEmail, parsed: ParsedEmail) -> Outcome:
    if parsed.dsn is not None:
        return _bounce(parsed.dsn)
    redelivery = _redelivery(row, parsed)
    if redelivery is not None:
        return redelivery
    if not parsed.from_email:
        return Outcome(RowStatus.IGNORED, "No sender address: nobody to answer")
    if _ours(row.queue, parsed):
        return Outcome(RowStatus.IGNORED, "Our own email came back: ignored (mail loop)")
    if parsed.automatic:
        return Outcome(RowStatus.IGNORED, f"Automatic email ({parsed.automatic}): no ticket, no answer")
    ticket, purpose = _referenced_ticket(row, parsed)
    if ticket is not None:
        if trusted_sender(ticket, parsed.from_email):
            return message_add_from_email(ticket, parsed, purpose=purpose)
        return Outcome(RowStatus.HELD, f"Held on {ticket.reference}: a reply from {parsed.from_email}", ticket)
    tagged_id = parsed.subject_ticket_id
    tagged = Ticket.objects.select_related("customer", "queue").filter(pk=tagged_id).first() if tagged_id else None
    if tagged is not None:
        domain = parsed.from_email.rpartition("@")[2].lower()
        if trusted_sender(tagged, parsed.from_email) and domain in parsed.dmarc_pass_domains:
            return message_add_from_email(tagged, parsed, purpose="")
        return Outcome(RowStatus.HELD, f"Held on {tagged.reference}: subject tag only", tagged)
    agent = forwarding_agent(row.queue, parsed)
    if agent is not None and agent.email.rpartition("@")[2].lower() not in parsed.dmarc_pass_domains:
        return Outcome(RowStatus.HELD, f"Held: a forward from {agent.email}, its sender not verified (no DMARC pass)")
    return ticket_from_email(row.queue, parsed, by=agent)


def inbound_route(*, email_id: int) -> str:
    """Route one stored email (the Celery task, and the admin's retry). A row routed already is left alone, so a
    duplicate task delivery changes nothing. Returns the row's status."""
    with transaction.atomic():
        row = InboundEmail.objects.select_for_update(of=("self",)).select_related("queue").filter(pk=email_id).first()
        if row is None or row.status != RowStatus.RECEIVED:
            return row.status if row else "missing"
        row.attempts += 1
        try:
            with transaction.atomic():
                outcome = route(row, email_read(row))
        except ParseError as exc:
            outcome = Outcome(RowStatus.FAILED, "Could not be read")
            row.error = str(exc)
        except Exception as exc:
            logger.exception("inbound email %s could not be routed", email_id)
            outcome = Outcome(RowStatus.FAILED, "Could not be routed")
            row.error = f"{type(exc).__name__}: {exc}"
        row.status, row.outcome = outcome.status, outcome.text[:300]
        row.ticket, row.ticket_message, row.redelivery_of = outcome.ticket, outcome.message, outcome.first
        row.routed_at = timezone.now()
        if outcome.status != RowStatus.FAILED:
            row.error = ""
        row.save()
        return row.status


def inbound_retry(*, email_id: int) -> bool:
    """Admin: route a failed email again (after a fix). Returns whether it was failed."""
    with transaction.atomic():
        retried = InboundEmail.objects.filter(pk=email_id, status=RowStatus.FAILED).update(status=RowStatus.RECEIVED)
    if retried:
        inbound_route(email_id=email_id)
    return bool(retried)
