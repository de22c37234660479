"""What the agent's ticket page shows of email in: the channel, the full email, attachments (and their downloads),
the tickets a late email linked, and the addresses copied on the ticket."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tickets import services
from tickets.email_in import EmailDetails, IncomingFile
from tickets.models import Attachment, CloseReason, Message, TicketCC
from tickets.tests.factories import CustomerFactory, QueueFactory

pytestmark = pytest.mark.django_db

XSS = "<script>alert(1)</script>"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def make_ticket(queue, **kwargs):
    kwargs.setdefault("customer", CustomerFactory())
    return services.ticket_create(queue=queue, subject="Printer on fire", body="It is burning.", by=None, **kwargs)


def email_in(ticket, *, body="Thanks, it works.", full_body="", files=(), purpose="", reopen=True):
    email = EmailDetails(message_id="<a1@example.org>", full_body=full_body, reply_to_purpose=purpose, files=files)
    return services.message_add(
        ticket_id=ticket.pk,
        kind=Message.Kind.CUSTOMER_MESSAGE,
        body=body,
        customer=ticket.customer,
        email=email,
        reopen=reopen,
    )


def detail(client, ticket):
    return client.get(reverse("tickets:detail", args=[ticket.pk]))


def attachment_url(attachment):
    return reverse("tickets:attachment", args=[attachment.message.ticket_id, attachment.pk])


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


# --- messages by email ---------------------------------------------------------------------------------------------


def test_an_email_message_shows_its_channel_reply_text_and_full_email_folded(agent_client, queue):
    ticket = make_ticket(queue)
    email_in(ticket, body="Works now.", full_body=f"Works now.\n\nOn Monday, Support wrote:\n> Unplug it. {XSS}")

    page = detail(agent_client, ticket).text

    assert page.count('<span class="msg-channel small muted">by email</span>') == 1  # none on the web message
    assert '<details class="msg-full">\n              <summary>Show the full email</summary>' in page
    assert "&gt; Unplug it. &lt;script&gt;alert(1)&lt;/script&gt;" in page and XSS not in page
    assert page.index("Works now.") < page.index("Show the full email")


def test_an_email_without_quoted_history_has_no_full_email_fold(agent_client, queue):
    ticket = make_ticket(queue)
    email_in(ticket, body="Just this.")

    page = detail(agent_client, ticket).text

    assert "by email" in page and "Show the full email" not in page


def test_attachments_are_listed_with_name_size_and_link(agent_client, queue, media_root):
    ticket = make_ticket(queue)
    files = (IncomingFile(f"{XSS}.pdf", "application/pdf", b"x" * 2048), IncomingFile("shot.png", "image/png", PNG))
    email_in(ticket, files=files)
    pdf, png = Attachment.objects.order_by("id")

    page = detail(agent_client, ticket).text

    assert f'href="{attachment_url(pdf)}">&lt;script&gt;alert(1)&lt;/script&gt;.pdf</a>' in page
    assert f'href="{attachment_url(png)}">shot.png</a>' in page
    assert "2.0\xa0KB" in page and "40\xa0bytes" in page


def test_a_reply_to_one_of_our_emails_names_its_kind_in_the_thread(agent_client, agent, queue):
    ticket = make_ticket(queue)
    services.ticket_close(ticket_id=ticket.pk, reason=CloseReason.SOLVED, by=agent)
    email_in(ticket, body="Thanks", purpose="confirmation", reopen=False)
    email_in(ticket, body="Hm", purpose="no_longer_registered", reopen=False)  # its app was removed

    page = detail(agent_client, ticket).text

    assert "by email, answering the request confirmation email" in page  # the kind's registered label
    assert page.count("by email</span>") == 1  # an unregistered purpose is not named


# --- attachment downloads ------------------------------------------------------------------------------------------


@pytest.fixture
def files(queue, media_root):
    ticket = make_ticket(queue)
    email_in(
        ticket,
        files=(
            IncomingFile("report ü.pdf", "application/pdf", b"%PDF-1.4 report"),
            IncomingFile("page.html", "text/html", b"<script>alert(1)</script>"),
            IncomingFile("shot.png", "image/png", PNG),
            IncomingFile("logo.svg", "image/svg+xml", b"<svg onload='alert(1)'/>"),
        ),
    )
    return {a.filename.rsplit(".", 1)[1]: a for a in Attachment.objects.all()}


def download(client, attachment):
    response = client.get(attachment_url(attachment))
    body = b"".join(response.streaming_content) if response.status_code == 200 else b""
    return response, body


@pytest.mark.parametrize("kind", ["pdf", "html", "svg"])
def test_files_other_than_raster_images_are_downloads_of_octet_stream(agent_client, files, kind):
    response, body = download(agent_client, files[kind])

    assert response.status_code == 200
    assert body == files[kind].file.open("rb").read()
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment; filename")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"


def test_a_file_name_is_sent_rfc_5987_encoded(agent_client, files):
    response, _ = download(agent_client, files["pdf"])

    assert response["Content-Disposition"] == "attachment; filename*=utf-8''report%20%C3%BC.pdf"


def test_a_png_is_shown_inline_as_an_image(agent_client, files):
    response, body = download(agent_client, files["png"])

    assert response.status_code == 200 and body == PNG
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'inline; filename="shot.png"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"


def test_outsiders_and_agents_of_another_queue_get_404(client, files, outsider, plain_user):
    for user in (outsider, plain_user):
        client.force_login(user)
        assert download(client, files["pdf"])[0].status_code == 404


def test_anonymous_users_are_sent_to_login(client, files):
    response = client.get(attachment_url(files["png"]))

    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_an_attachment_of_another_ticket_is_404_even_under_a_visible_ticket(agent_client, queue, files):
    other_ticket = make_ticket(queue)

    response = agent_client.get(reverse("tickets:attachment", args=[other_ticket.pk, files["pdf"].pk]))

    assert response.status_code == 404


def test_an_attachment_whose_file_is_gone_is_404(agent_client, files):
    files["pdf"].file.delete(save=False)

    assert download(agent_client, files["pdf"])[0].status_code == 404


def test_downloads_are_get_only(agent_client, files):
    assert agent_client.post(attachment_url(files["pdf"])).status_code == 405


# --- follows -------------------------------------------------------------------------------------------------------


def test_a_ticket_links_the_closed_ticket_it_continues_and_back(agent_client, agent, queue):
    old = make_ticket(queue)
    services.ticket_close(ticket_id=old.pk, reason=CloseReason.SOLVED, by=agent)
    new = make_ticket(queue, customer=old.customer, follows=old)
    newer = make_ticket(queue, customer=old.customer, follows=old)

    new_page = detail(agent_client, new).text
    old_page = detail(agent_client, old).text

    old_link = f'<a href="{reverse("tickets:detail", args=[old.pk])}">{old.reference}</a>'
    assert f"Continues {old_link} (closed)" in new_page
    assert "Followed by" not in new_page
    new_link = f'<a href="{reverse("tickets:detail", args=[new.pk])}">{new.reference}</a>'
    newer_link = f'<a href="{reverse("tickets:detail", args=[newer.pk])}">{newer.reference}</a>'
    assert f"Followed by {new_link}, {newer_link}" in old_page
    assert "Continues" not in old_page


def test_links_only_to_tickets_the_user_can_see(agent_client, queue):
    other_queue = QueueFactory()
    hidden = make_ticket(other_queue)
    ticket = make_ticket(queue, follows=hidden)
    visible_follower = make_ticket(queue, follows=ticket)
    hidden_follower = make_ticket(other_queue, follows=ticket)

    page = detail(agent_client, ticket).text

    assert f"Continues {hidden.reference}" in page
    assert reverse("tickets:detail", args=[hidden.pk]) not in page
    assert f'Followed by <a href="{reverse("tickets:detail", args=[visible_follower.pk])}">' in page
    assert hidden_follower.reference not in page


def test_a_ticket_without_links_ccs_or_emails_costs_no_query_for_them(agent_client, queue):
    ticket = make_ticket(queue)

    with CaptureQueriesContext(connection) as captured:
        page = detail(agent_client, ticket).text

    assert "Continues" not in page and "Followed by" not in page
    assert (
        len([q for q in captured if q["sql"].startswith('SELECT "tickets_ticket"."id", "tickets_ticket"."status"')])
        == 0
    )
    # nor for CCs and attachments it has none of (read as flags with the ticket; a web message has no attachments)
    assert not [
        q for q in captured if q["sql"].startswith(('SELECT "tickets_ticketcc"', 'SELECT "tickets_attachment"'))
    ]


# --- CCs -----------------------------------------------------------------------------------------------------------


def test_the_cc_card_explains_and_lists_the_copied_addresses(agent_client, agent, queue):
    ticket = make_ticket(queue)
    services.ticket_cc_add(ticket_id=ticket.pk, email=f"{XSS}@example.org", by=agent)

    page = detail(agent_client, ticket).text

    assert "Emails from these addresses to this ticket are added like the customer's; they get the public" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;@example.org" in page and XSS not in page


def test_adding_a_cc(agent_client, agent, queue):
    ticket = make_ticket(queue)

    response = agent_client.post(reverse("tickets:cc-add", args=[ticket.pk]), {"email": "Boss@Example.org"})

    assert response.status_code == 302 and response["Location"] == reverse("tickets:detail", args=[ticket.pk])
    cc = TicketCC.objects.get()
    assert (cc.ticket, cc.email, cc.added_by) == (ticket, "Boss@Example.org", agent)
    assert "Boss@Example.org is copied on the ticket." in detail(agent_client, ticket).text


def test_adding_an_invalid_address_shows_the_error(agent_client, queue):
    ticket = make_ticket(queue)

    response = agent_client.post(reverse("tickets:cc-add", args=[ticket.pk]), {"email": "not an address"})

    assert response.status_code == 400
    assert "Enter a valid email address." in response.text
    assert not TicketCC.objects.exists()


def test_adding_a_cc_with_htmx_returns_the_ticket_part(agent_client, queue):
    ticket = make_ticket(queue)

    response = agent_client.post(
        reverse("tickets:cc-add", args=[ticket.pk]), {"email": "boss@example.org"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert 'id="ticket"' in response.text and "<html" not in response.text
    assert "boss@example.org" in response.text


def test_removing_a_cc(agent_client, agent, queue):
    ticket = make_ticket(queue)
    cc = services.ticket_cc_add(ticket_id=ticket.pk, email="boss@example.org", by=agent)

    response = agent_client.post(reverse("tickets:cc-remove", args=[ticket.pk]), {"cc": cc.pk})

    assert response.status_code == 302
    assert not TicketCC.objects.exists()
    assert "boss@example.org is no longer copied on the ticket." in detail(agent_client, ticket).text


def test_removing_another_tickets_cc_is_refused(agent_client, agent, queue):
    ticket, other = make_ticket(queue), make_ticket(queue)
    cc = services.ticket_cc_add(ticket_id=other.pk, email="boss@example.org", by=agent)

    response = agent_client.post(reverse("tickets:cc-remove", args=[ticket.pk]), {"cc": cc.pk})

    assert response.status_code == 400 and "not copied on this ticket" in response.text
    assert TicketCC.objects.get() == cc


def test_cc_actions_of_another_queues_ticket_are_404(client, outsider, queue, agent):
    ticket = make_ticket(queue)
    cc = services.ticket_cc_add(ticket_id=ticket.pk, email="boss@example.org", by=agent)
    client.force_login(outsider)

    assert client.post(reverse("tickets:cc-add", args=[ticket.pk]), {"email": "x@example.org"}).status_code == 404
    assert client.post(reverse("tickets:cc-remove", args=[ticket.pk]), {"cc": cc.pk}).status_code == 404
    assert list(TicketCC.objects.values_list("email", flat=True)) == ["boss@example.org"]


def test_cc_actions_are_post_only_and_need_csrf(agent, queue):
    ticket = make_ticket(queue)
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)

    assert client.get(reverse("tickets:cc-add", args=[ticket.pk])).status_code == 405
    assert client.get(reverse("tickets:cc-remove", args=[ticket.pk])).status_code == 405
    assert client.post(reverse("tickets:cc-add", args=[ticket.pk]), {"email": "x@example.org"}).status_code == 403
    assert not TicketCC.objects.exists()
