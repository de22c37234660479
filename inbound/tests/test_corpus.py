"""The corpus: real-shaped emails as mail clients, servers and attackers write them (corpus/*.eml), each run through
store → route, with the outcome it must get.

The files hold placeholders ({QUEUE_ADDRESS}, {REPLY_ADDRESS}, {OUR_MESSAGE_ID}, {TICKET_REF}, {CUSTOMER}, {AGENT},
{LARGE_BASE64}) filled in once the queue, the ticket and our reply to it exist. The envelope recipient is the
ticket's reply address when the To header names it, else the queue's address. `pytest inbound/tests/test_corpus.py`
ends with the table "case → outcome".
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from inbound.models import InboundEmail
from inbound.routing import inbound_route
from inbound.store import inbound_store
from outbox.models import OutgoingEmail, Suppression
from tickets.mailthread import reply_address
from tickets.models import Attachment, Customer, Message, Queue, Ticket, TicketEvent
from tickets.services import customer_get_or_create, message_add, ticket_create

from .conftest import CORPUS_OUTCOMES

pytestmark = pytest.mark.django_db

CORPUS = Path(__file__).parent / "corpus"
SITE_URL = "https://help.example.com"  # the survey link quoted in survey_link_base64.eml
SURVEY_TOKEN = "q8ZxR2b-Vn4mKd0Lw7YcT1sGh9JfPu3EaN6oQi5_XrU"
CUSTOMER_EMAIL = "jo@customer.example"
LARGE_ATTACHMENT_BYTES = 1536 * 1024  # the queue keeps files up to 1 MB
TO_REPLY_ADDRESS = re.compile(rb"^To:[^\r\n]*\{REPLY_ADDRESS\}", re.MULTILINE)

THREADED, NEW, HELD, IGNORED, BOUNCE, FAILED = "threaded reply", "new ticket", "held", "ignored", "bounce", "failed"


@dataclass
class Desk:
    queue: Queue
    ticket: Ticket
    agent_email: str
    our_message_id: str

    @property
    def placeholders(self) -> dict[bytes, bytes]:
        return {
            b"{QUEUE_ADDRESS}": self.queue.reply_from_email.encode(),
            b"{REPLY_ADDRESS}": reply_address(self.ticket).encode(),
            b"{OUR_MESSAGE_ID}": self.our_message_id.encode(),
            b"{TICKET_REF}": self.ticket.reference.encode(),
            b"{CUSTOMER}": CUSTOMER_EMAIL.encode(),
            b"{AGENT}": self.agent_email.encode(),
            b"{AGENT_DOMAIN}": self.agent_email.rpartition("@")[2].encode(),
        }


def large_base64() -> bytes:
    encoded = base64.b64encode(b"%PDF-1.7\n" + b"\0" * LARGE_ATTACHMENT_BYTES)
    return b"\r\n".join(encoded[start : start + 76] for start in range(0, len(encoded), 76))


@pytest.fixture
def desk(settings, queue, agent) -> Desk:
    settings.SITE_URL = SITE_URL
    settings.INBOUND_TRUSTED_AUTHSERV_IDS = ["mx.support.example.com"]  # our MX, in the agent's forward
    queue.attachment_max_mb = 1
    queue.save()
    jo = customer_get_or_create(email=CUSTOMER_EMAIL, name="Jo Customer")
    ticket = ticket_create(queue=queue, customer=jo, subject="Printer on fire", body="It is on fire.", by=None)
    message_add(ticket_id=ticket.pk, kind=Message.Kind.PUBLIC_REPLY, body="Please unplug the printer.", by=agent)
    ours = ticket.mail_refs.get(purpose="reply").message_id
    return Desk(queue=queue, ticket=ticket, agent_email=agent.email, our_message_id=ours)


def deliver(desk: Desk, name: str, *, envelope_sender: str = "") -> InboundEmail:
    template = (CORPUS / name).read_bytes()
    raw = template
    for placeholder, value in desk.placeholders.items():
        raw = raw.replace(placeholder, value)
    if b"{LARGE_BASE64}" in raw:
        raw = raw.replace(b"{LARGE_BASE64}", large_base64())
    recipient = reply_address(desk.ticket) if TO_REPLY_ADDRESS.search(template) else desk.queue.reply_from_email
    row, created = inbound_store(
        raw=raw, queue=desk.queue, channel="smtp", recipient=recipient, envelope_sender=envelope_sender
    )
    assert created
    inbound_route(email_id=row.pk)
    row.refresh_from_db()
    return row


def outcome_of(row: InboundEmail, desk: Desk) -> str:
    if row.status == InboundEmail.Status.FAILED:
        return FAILED
    if row.status == InboundEmail.Status.HELD:
        return HELD
    if row.status == InboundEmail.Status.IGNORED:
        return BOUNCE if Suppression.objects.exists() else IGNORED
    assert row.status == InboundEmail.Status.ROUTED
    return THREADED if row.ticket_id == desk.ticket.pk else NEW


# --- what each case must also show --------------------------------------------------------------------------------


def reply_is(expected: str, *, quoted: str = "step away from it") -> Callable[[InboundEmail, Desk], None]:
    """The reply text is the new text only; the full body keeps the quoted history."""

    def check(row: InboundEmail, desk: Desk) -> None:
        message = row.ticket_message
        assert message.body == expected
        assert quoted not in message.body and "wrote:" not in message.body
        assert quoted in message.full_body
        assert message.email_message_id and message.channel == "email"

    return check


def new_ticket_from(email: str, *, subject: str = "", body_has: tuple[str, ...] = ()) -> Callable:
    def check(row: InboundEmail, desk: Desk) -> None:
        ticket = row.ticket
        assert ticket.customer.email == email
        if subject:
            assert ticket.subject == subject
            assert row.subject == subject  # the stored row's too (encoded-words decoded)
        first = ticket.messages.get()
        for text in body_has:
            assert text in first.body, first.body

    return check


def acknowledged(row: InboundEmail, desk: Desk) -> None:
    new_ticket_from("pat.newcomer@gmail.example", subject="Cannot log in to the portal")(row, desk)
    ack = OutgoingEmail.objects.get(kind="confirmation", to_email="pat.newcomer@gmail.example")
    assert ack.render_spec.get("auto_reply") is True


def forwarded_by_agent(row: InboundEmail, desk: Desk) -> None:
    new_ticket_from("maria.kunde@kunde.example", body_has=("charges us twice",))(row, desk)
    assert row.ticket.customer.name == "Maria Kunde"
    created = TicketEvent.objects.get(ticket=row.ticket, kind=TicketEvent.Kind.CREATED)
    assert created.actor.email == desk.agent_email
    assert "please handle" not in row.ticket.messages.get().body
    assert not OutgoingEmail.objects.filter(kind="confirmation").exists()  # no ack to anybody


def untouched(row: InboundEmail, desk: Desk) -> None:
    assert row.ticket_message is None
    assert desk.ticket.messages.count() == 2
    assert Ticket.objects.count() == 1
    assert not OutgoingEmail.objects.filter(kind="confirmation").exists()


def suppressed(row: InboundEmail, desk: Desk) -> None:
    suppression = Suppression.objects.get()
    assert suppression.email == CUSTOMER_EMAIL and suppression.bounced_message_id == desk.our_message_id
    assert suppression.reason.startswith("5.1.1")


def delayed(row: InboundEmail, desk: Desk) -> None:
    untouched(row, desk)
    assert "delayed 4.4.7" in row.outcome


def held_on_ticket(row: InboundEmail, desk: Desk) -> None:
    assert row.ticket_id == desk.ticket.pk and row.ticket_message is None
    assert desk.ticket.messages.count() == 2


def hostile_sanitised(row: InboundEmail, desk: Desk) -> None:
    body = row.ticket.messages.get().body
    assert "Your invoice is attached" in body and "deep inside" in body
    for bad in ("<", "alert", "javascript", "onerror", "tracker.evil.example", "steal()", "background"):
        assert bad not in body, bad


def link_redacted(row: InboundEmail, desk: Desk) -> None:
    reply_is("Sorry, I clicked the link in your email by mistake, please ignore my rating.", quoted="How did we do?")(
        row, desk
    )
    stored = message_from_bytes(row.raw_bytes(), policy=policy.default)
    text = stored.get_content()
    assert text.count("[link removed]") == 2
    assert SURVEY_TOKEN.encode() not in row.raw_bytes() and SURVEY_TOKEN not in text
    assert SURVEY_TOKEN not in row.ticket_message.full_body
    assert "[link removed]" in row.ticket_message.full_body


def large_attachment(row: InboundEmail, desk: Desk) -> None:
    assert row.raw is None and row.raw_file  # over INBOUND_RAW_INLINE_MAX_BYTES: in file storage
    body = row.ticket.messages.get().body
    assert "scan.pdf (1.5\xa0MB) was not kept: larger than this queue's 1 MB limit." in body
    kept = Attachment.objects.get()
    assert (kept.filename, kept.content_type, kept.size) == ("photo.png", "image/png", 66)


def malformed(row: InboundEmail, desk: Desk) -> None:
    # From names no address: the envelope sender is who wrote it
    assert row.ticket.customer.email == CUSTOMER_EMAIL and row.ticket != desk.ticket
    assert row.ticket.messages.get().body == "Der Drucker läuft nicht mehr. Bitte um Rückruf."
    assert "Drucker" in row.ticket.subject
    assert "\udcfc" not in row.subject  # 8-bit header bytes never reach the database as surrogates


def unreadable(row: InboundEmail, desk: Desk) -> None:
    assert row.error and row.outcome == "Could not be read"


def no_message_id(row: InboundEmail, desk: Desk) -> None:
    assert row.message_id == ""
    new_ticket_from("scanner@branch-office.example", body_has=("toner cartridge K",))(row, desk)
    assert row.ticket.messages.get().email_message_id == ""


@dataclass(frozen=True)
class Case:
    outcome: str
    check: Callable[[InboundEmail, Desk], None] | None = None
    envelope_sender: str = ""


CASES: dict[str, Case] = {
    "gmail_reply.eml": Case(THREADED, reply_is("Thanks, unplugging it worked! The printer is cold now.")),
    "outlook_reply_cp1252.eml": Case(
        THREADED,
        reply_is(
            "I’ve tried that, it didn’t help. The display says “Error 42”.\n\nJo Customer\nFacilities – Building 3"
        ),
    ),
    "outlook_original_message.eml": Case(
        THREADED, reply_is("It is still smoking a little. Should I call the fire brigade?")
    ),
    "apple_mail_iphone.eml": Case(THREADED, reply_is("Done, it’s unplugged.")),
    "thunderbird_flowed.eml": Case(
        THREADED,
        reply_is(
            "I unplugged it, but there is still a smell of burnt toner in the whole office and the paper tray "
            "looks melted. Can someone come and have a look at it today?\n\nJo"
        ),
    ),
    "survey_link_base64.eml": Case(THREADED, link_redacted),
    "gmail_forward_by_agent.eml": Case(NEW, forwarded_by_agent),
    "new_request_alternative.eml": Case(NEW, acknowledged),
    "latin1_quoted_printable.eml": Case(
        NEW,
        new_ticket_from(
            "claire.dubois@wanadoo.example",
            subject="Problème d'accès à l'imprimante",
            body_has=("l'écran de l'imprimante affiche « erreur 42 »",),
        ),
    ),
    "cp1252_8bit_curly_quotes.eml": Case(
        NEW,
        new_ticket_from(
            "sean.obrien@contoso.example",
            subject="“Out of paper” but the tray is full",
            body_has=("says “Out of paper” but", "It’s the one on the 2nd floor – next"),
        ),
    ),
    "shift_jis.eml": Case(
        NEW,
        new_ticket_from(
            "taro.yamada@kaisha.example", subject="プリンターが故障しました", body_has=("3階のプリンターが動きません",)
        ),
    ),
    "koi8_r.eml": Case(
        NEW,
        new_ticket_from(
            "ivan.petrov@pochta.example", subject="Не работает принтер", body_has=("печатает пустые листы",)
        ),
    ),
    "unknown_charset.eml": Case(
        NEW, new_ticket_from("erp@legacy.example", body_has=("Export job 7 failed for customer M\ufffdller",))
    ),
    "hostile_html.eml": Case(NEW, hostile_sanitised),
    "large_attachment.eml": Case(NEW, large_attachment),
    "malformed_headers.eml": Case(NEW, malformed, envelope_sender=CUSTOMER_EMAIL),
    "no_message_id.eml": Case(NEW, no_message_id),
    "spoofed_reply_subject_tag.eml": Case(HELD, held_on_ticket),
    "out_of_office_auto_submitted.eml": Case(IGNORED, untouched),
    "out_of_office_exchange.eml": Case(IGNORED, untouched),
    "mailing_list.eml": Case(IGNORED, untouched),
    "our_own_email_back.eml": Case(IGNORED, untouched),
    "dsn_delayed.eml": Case(IGNORED, delayed),
    "dsn_failed_rfc822.eml": Case(BOUNCE, suppressed),
    "dsn_failed_headers_only.eml": Case(BOUNCE, suppressed),
    "not_an_email.eml": Case(FAILED, unreadable),
}


def test_every_corpus_file_has_a_case():
    assert sorted(path.name for path in CORPUS.glob("*.eml")) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus(name, desk):
    case = CASES[name]
    row = deliver(desk, name, envelope_sender=case.envelope_sender)
    got = outcome_of(row, desk)
    where = f" {row.ticket.reference}" if row.ticket_id and got != THREADED else ""
    CORPUS_OUTCOMES[name.removesuffix(".eml")] = f"{got}{where}: {row.outcome}" + (
        f" [{row.error}]" if row.error else ""
    )
    assert got == case.outcome, (row.outcome, row.error)
    if case.check is not None:
        case.check(row, desk)
    assert not Customer.objects.filter(email="").exists()
