"""Where agents see sentiment: the list, the ticket card, the feedback pages, the live panel and its spikes."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from outbox.models import OutgoingEmail
from sentiment.models import SentimentSpike, TextSentiment
from sentiment.services import SPIKE_EMAIL, message_score, response_score, spikes_flag
from surveys.tests.factories import ResponseFactory
from tickets import services as tickets
from tickets.models import Message, Ticket
from tickets.tests.factories import CustomerFactory, MembershipFactory, QueueFactory
from tickets.tests.test_public import conversation_link

pytestmark = pytest.mark.django_db

ANGRY = "Still not fixed after three emails. This is ridiculous and I am furious."


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def scored_ticket(queue, body: str = ANGRY, subject: str = "Help") -> Ticket:
    ticket = tickets.ticket_create(queue=queue, customer=CustomerFactory(), subject=subject, body=body, by=None)
    message_score(message_id=ticket.messages.get().pk)
    return ticket


def texts(queue, *, n: int, negative: int, minutes_ago: float) -> None:
    """`n` scored customer messages of `queue`, `negative` of them negative, scored `minutes_ago`."""
    ticket = tickets.ticket_create(queue=queue, customer=CustomerFactory(), subject="x", body="x", by=None)
    at = timezone.now() - timedelta(minutes=minutes_ago)
    rows = []
    for i in range(n):
        message = Message.objects.create(
            ticket=ticket, kind=Message.Kind.CUSTOMER_MESSAGE, author_customer=ticket.customer, body=f"text {i}"
        )
        label = "negative" if i < negative else "neutral"
        rows.append(
            TextSentiment(
                message=message,
                ticket=ticket,
                queue=queue,
                customer=ticket.customer,
                label=label,
                score=-0.6 if label == "negative" else 0.0,
                version="t",
                text_digest="x",
                written_at=at,
                scored_at=at,
            )
        )
    TextSentiment.objects.bulk_create(rows)


# --- the ticket list and the ticket page -----------------------------------------------------------------------


def test_the_list_shows_and_filters_the_latest_customer_message_s_label(queue, agent):
    angry = scored_ticket(queue, subject="Angry one")
    scored_ticket(queue, body="Thanks a lot, that works perfectly now!", subject="Happy one")
    client = client_for(agent)

    page = client.get(reverse("tickets:list"), {"view": "all"}).text
    assert "Sentiment" in page and "sentiment-negative" in page and "sentiment-positive" in page

    negative = client.get(reverse("tickets:list"), {"view": "all", "sentiment": "negative"}).text
    assert angry.subject in negative and "Happy one" not in negative
    assert client.get(reverse("tickets:list"), {"view": "all", "sentiment": "bogus"}).status_code in (200, 400)


def test_the_ticket_card_shows_each_message_s_badge_and_the_trend(queue, agent):
    ticket = scored_ticket(queue)
    customer_says = {"ticket_id": ticket.pk, "kind": Message.Kind.CUSTOMER_MESSAGE, "customer": ticket.customer}
    tickets.message_add(**customer_says, body="Great, thank you so much! Works now.")
    message_score(message_id=ticket.messages.latest("created_at").pk)
    tickets.message_add(**customer_says, body="Danke schön, alles gut jetzt.")
    client = client_for(agent)

    page = client.get(reverse("tickets:detail", args=[ticket.pk])).text
    assert "Customer sentiment" in page and reverse("sentiment:ticket", args=[ticket.pk]) in page
    assert "sentiment-positive" in page  # the latest scored message's label, read with the ticket

    card = client.get(reverse("sentiment:ticket", args=[ticket.pk])).text
    assert card.count('class="sentiment sentiment-') == 3
    assert "Negative" in card and "Positive" in card and "Not scored yet" in card
    assert "Trend over the conversation: <strong>improving</strong>" in card
    assert "<polyline" in card


def test_the_ticket_card_partial_is_only_for_agents_who_see_the_ticket(queue, outsider, client):
    ticket = scored_ticket(queue)
    url = reverse("sentiment:ticket", args=[ticket.pk])

    assert client_for(outsider).get(url).status_code == 404
    assert client.get(url).status_code == 302  # to the login page
    assert client_for(MembershipFactory(queue=queue).user).post(url).status_code == 405


def test_sentiment_is_never_on_a_customer_page(client, queue):
    ticket = scored_ticket(queue)

    page = client.get(conversation_link(ticket)).text
    assert "sentiment" not in page.lower() and "negative" not in page.lower()


def test_texts_are_escaped_everywhere(queue, lead):
    xss = "<script>alert(1)</script> this is terrible, still broken, awful"
    ticket = scored_ticket(queue, body=xss)
    client = client_for(lead)

    for url in (reverse("sentiment:ticket", args=[ticket.pk]), reverse("sentiment:live")):
        page = client.get(url).text
        assert "<script>alert" not in page and "&lt;script&gt;" in page


# --- the feedback pages ------------------------------------------------------------------------------------------


def test_my_feedback_shows_the_negative_share_and_filters_comments(queue, agent):
    bad = ResponseFactory(
        invitation__queue=queue, invitation__agent=agent, csat=5, comment="Awful, still broken, I hate it"
    )
    good = ResponseFactory(
        invitation__queue=queue, invitation__agent=agent, csat=5, comment="Lovely, thanks, great help!"
    )
    french = ResponseFactory(
        invitation__queue=queue, invitation__agent=agent, csat=4, comment="Merci beaucoup pour tout"
    )
    for response in (bad, good, french):
        response_score(response_id=response.pk)
    client = client_for(agent)

    page = client.get(reverse("surveys:my-feedback")).text
    figures = re.search(r'hx-get="([^"]+)"', page[page.index("Response rate") :]).group(1).replace("&amp;", "&")
    assert figures.startswith(reverse("surveys:feedback-figures")) and "me=1" in figures
    share = client.get(figures).text
    assert "Negative comments" in share and "50.0%" in share and "1 of 2 scored comments; 1 not scored" in share
    assert client_for(MembershipFactory().user).get(figures.replace("me=1", f"agent={agent.pk}")).status_code == 404

    negative = client.get(reverse("surveys:my-feedback"), {"sentiment": "negative"}).text
    assert "Awful, still broken" in negative and "Lovely, thanks" not in negative
    positive = client.get(reverse("surveys:my-feedback"), {"sentiment": "positive"}).text
    assert "Lovely, thanks" in positive and "Awful, still broken" not in positive
    everything = client.get(reverse("surveys:my-feedback"), {"sentiment": "nonsense"}).text
    assert "Lovely, thanks" in everything and "Awful, still broken" in everything and "Merci" in everything


def test_the_team_dashboard_lists_comments_with_the_filter(queue, lead, agent):
    bad = ResponseFactory(invitation__queue=queue, invitation__agent=agent, csat=4, comment="Terrible, awful service")
    response_score(response_id=bad.pk)

    client = client_for(lead)
    page = client.get(reverse("surveys:team"), {"sentiment": "negative"}).text
    assert reverse("sentiment:live") in page  # the live panel, loaded by htmx, as the comments and the figures
    assert f"{reverse('surveys:team-comments')}?sentiment=negative" in page
    comments = client.get(reverse("surveys:team-comments"), {"sentiment": "negative"}).text
    assert "Latest comments" in comments and "Terrible, awful service" in comments
    assert "Negative comments" in client.get(reverse("surveys:feedback-figures"), {"team": "1"}).text
    assert client_for(agent).get(reverse("surveys:team-comments")).status_code == 404
    assert client_for(agent).get(reverse("surveys:feedback-figures"), {"team": "1"}).status_code == 404


# --- the live panel and spikes -----------------------------------------------------------------------------------


def test_the_live_partial_shows_a_new_negative_message_on_its_next_refresh(queue, lead):
    client = client_for(lead)
    before = client.get(reverse("sentiment:live"))
    assert before.status_code == 200 and before["Cache-Control"] == "no-store"
    assert "No negative customer message or comment in the last hour." in before.text

    ticket = scored_ticket(queue, subject="Printer")

    after = client.get(reverse("sentiment:live")).text
    assert ticket.reference in after and "Still not fixed after three emails" in after
    assert "Refreshed" in after


def test_the_live_partial_is_for_leads_and_admins_only(queue, agent, lead, admin_user):
    other = QueueFactory()
    scored_ticket(other, subject="Elsewhere")

    assert client_for(agent).get(reverse("sentiment:live")).status_code == 404
    lead_page = client_for(lead).get(reverse("sentiment:live")).text
    assert "Still not fixed" not in lead_page and other.name not in lead_page  # not a queue the lead leads
    assert "Still not fixed" in client_for(admin_user).get(reverse("sentiment:live")).text


@pytest.fixture
def baseline(queue):
    """30 days before the hour: 100 scored texts, 10% negative."""
    texts(queue, n=100, negative=10, minutes_ago=3 * 24 * 60)


@pytest.mark.parametrize(
    ("n", "negative", "spike"),
    [
        (10, 2, True),  # 20% = exactly 2.0 × 10%, with exactly the minimum 10 scored
        (10, 1, False),  # 10%: the baseline
        (9, 9, False),  # every text negative but below the minimum
        (20, 3, False),  # 15%: 1.5 ×
        (20, 10, True),  # 50%: 5 ×
    ],
)
def test_the_spike_rule_at_below_and_above_its_thresholds(queue, baseline, n, negative, spike):
    texts(queue, n=n, negative=negative, minutes_ago=10)

    assert bool(spikes_flag()) is spike


def test_a_queue_without_a_baseline_is_never_a_spike(queue):
    texts(queue, n=20, negative=20, minutes_ago=10)

    assert spikes_flag() == []


def test_a_spike_emails_the_leads_once_per_hour_and_shows_on_the_panel(queue, lead, baseline):
    texts(queue, n=10, negative=5, minutes_ago=5)

    assert len(spikes_flag()) == 1
    assert spikes_flag() == []  # five minutes later (the beat): still flagged, no second email
    emails = OutgoingEmail.objects.filter(kind=SPIKE_EMAIL)
    assert [email.to_email for email in emails] == [lead.email]
    assert f"Negative sentiment spike in {queue.name}: 50%" in emails[0].subject
    assert "5 of 10 scored customer messages and survey comments read negative (50%)" in emails[0].body_text
    assert "against 10% over the 30 days before" in emails[0].body_text

    live = client_for(lead).get(reverse("sentiment:live")).text
    assert "Spike" in live and 'class="spiking"' in live

    with time_machine.travel(timezone.now() + timedelta(minutes=61), tick=False):
        texts(queue, n=10, negative=6, minutes_ago=1)
        assert len(spikes_flag()) == 1  # the next hour: one more
    assert SentimentSpike.objects.count() == 2 and OutgoingEmail.objects.filter(kind=SPIKE_EMAIL).count() == 2
