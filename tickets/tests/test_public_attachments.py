"""The customer's conversation page lists the files of their own emails and of public replies, downloaded through the
conversation token with the agent side's content rules; a note's files and another ticket's files stay out."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from tickets.email_in import IncomingFile, attachments_store
from tickets.models import Attachment, Message
from tickets.tests.test_email_pages import PNG, email_in, make_ticket
from tickets.tests.test_public import conversation_link

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def download_url(link: str, attachment: Attachment) -> str:
    token = link.rstrip("/").rsplit("/", 1)[1]
    return reverse("support:conversation-attachment", args=[token, attachment.pk])


def test_the_conversation_lists_the_customers_files_and_serves_them_as_downloads(client, queue, media_root):
    ticket = make_ticket(queue)
    email_in(
        ticket,
        files=(IncomingFile("report.pdf", "application/pdf", b"%PDF-1.4"), IncomingFile("a.png", "image/png", PNG)),
    )
    link = conversation_link(ticket)
    pdf, png = Attachment.objects.order_by("filename").reverse()

    page = client.get(link).text

    assert "report.pdf" in page and download_url(link, pdf) in page and download_url(link, png) in page
    for attachment, body in ((pdf, b"%PDF-1.4"), (png, PNG)):
        response = client.get(download_url(link, attachment))
        assert response.status_code == 200 and b"".join(response.streaming_content) == body
        assert response["Content-Type"] == "application/octet-stream"  # even an image: a download, never inline
        assert response["Content-Disposition"].startswith("attachment; filename")
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Security-Policy"] == "sandbox"


def test_another_tickets_attachment_is_404_with_this_token(client, queue, media_root):
    mine, theirs = make_ticket(queue), make_ticket(queue)
    email_in(theirs, files=(IncomingFile("secret.pdf", "application/pdf", b"%PDF secret"),))
    link = conversation_link(mine)

    response = client.get(download_url(link, Attachment.objects.get()))

    assert response.status_code == 404


def test_an_internal_notes_file_is_neither_listed_nor_served(client, queue, media_root, agent):
    ticket = make_ticket(queue)
    note = Message.objects.create(ticket=ticket, kind=Message.Kind.INTERNAL_NOTE, body="Internal", author_user=agent)
    attachments_store(message=note, files=(IncomingFile("internal.pdf", "application/pdf", b"%PDF"),), queue=queue)
    link = conversation_link(ticket)

    assert "internal.pdf" not in client.get(link).text
    assert client.get(download_url(link, Attachment.objects.get())).status_code == 404


def test_a_bad_token_is_404(client, queue, media_root):
    ticket = make_ticket(queue)
    email_in(ticket, files=(IncomingFile("report.pdf", "application/pdf", b"%PDF"),))
    url = reverse("support:conversation-attachment", args=["x" * 43, Attachment.objects.get().pk])

    assert client.get(url).status_code == 404
