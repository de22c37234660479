"""Macros: the placeholder whitelist (template injection stays literal), who is offered which macro (a foreign one:
not offered, 404 on preview and on POST, nothing sent), applying one on send (its actions as the ticket's events, the
use counted), and managing them (personal, shared by a lead, CSRF, POST-only delete)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from macros.models import Macro, MacroUse
from macros.rendering import macro_text
from outbox.models import OutgoingEmail
from tickets import services as tickets
from tickets.models import Message, Priority, QueueMembership, Status, Ticket
from tickets.tests.factories import CustomerFactory, MembershipFactory, QueueFactory

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def new_ticket(queue, name="Ada Lovelace") -> Ticket:
    customer = CustomerFactory(name=name)
    return tickets.ticket_create(queue=queue, customer=customer, subject="Printer", body="Help!", by=None)


def shared(queue, **kwargs) -> Macro:
    return Macro.objects.create(
        name=kwargs.pop("name", "Restart"), body=kwargs.pop("body", "Hi"), queue=queue, **kwargs
    )


# --- placeholders ---------------------------------------------------------------------------------------------------


def test_placeholders_are_filled_from_the_ticket(queue, agent):
    agent.first_name, agent.last_name = "Sophie", "Wagner"
    ticket = new_ticket(queue)
    body = "Hi {{ customer.first_name }}, re {{ ticket.reference }} ({{queue.name}}): "
    body += "{{ agent.first_name }} / {{ agent.name }}"

    assert macro_text(body, ticket=ticket, agent=agent) == (
        f"Hi Ada, re {ticket.reference} ({queue.name}): Sophie / Sophie Wagner"
    )


@pytest.mark.parametrize(
    "injection",
    [
        "{{ settings.SECRET_KEY }}",
        "{% load static %}{% static 'x' %}",
        "{{ customer.first_name|upper }}",
        "{{ ticket.customer.email }}",
        "{{ request.user.password }}",
        "{% debug %}",
        "{{ customer.__class__ }}",
        "{# comment #}",
    ],
)
def test_anything_else_stays_exactly_as_written(queue, agent, injection):
    assert macro_text(injection, ticket=new_ticket(queue), agent=agent) == injection


def test_a_customer_without_a_name_gets_an_empty_first_name(queue, agent):
    assert macro_text("Hi {{ customer.first_name }},", ticket=new_ticket(queue, name=""), agent=agent) == "Hi ,"


# --- who is offered what --------------------------------------------------------------------------------------------


def test_the_reply_box_offers_the_queue_s_and_the_agent_s_own_macros_only(queue, agent):
    ours = shared(queue, name="Ours")
    mine = Macro.objects.create(name="Mine", body="x", owner=agent)
    theirs = shared(QueueFactory(), name="Other queue")
    someone_elses = Macro.objects.create(name="Someone else's", body="x", owner=MembershipFactory(queue=queue).user)
    off = shared(queue, name="Switched off", active=False)

    ticket = new_ticket(queue)
    client = client_for(agent)
    detail = client.get(reverse("tickets:detail", args=[ticket.pk])).text
    assert reverse("macros:picker", args=[ticket.pk]) in detail
    page = client.get(reverse("macros:picker", args=[ticket.pk])).text

    for macro in (ours, mine):
        assert f'<option value="{macro.pk}">' in page
    for macro in (theirs, someone_elses, off):
        assert f'<option value="{macro.pk}">' not in page


def test_a_foreign_macro_is_a_404_on_preview_and_on_send_and_nothing_is_sent(queue, agent):
    ticket = new_ticket(queue)
    foreign = shared(QueueFactory(), set_status=Status.PENDING)
    client = client_for(agent)

    preview = client.get(reverse("macros:preview", args=[ticket.pk]), {"macro": foreign.pk})
    assert preview.status_code == 404
    sent = client.post(reverse("tickets:reply", args=[ticket.pk]), {"body": "Hello", "macro": foreign.pk})
    assert sent.status_code == 404
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW
    assert not Message.objects.filter(kind=Message.Kind.PUBLIC_REPLY).exists() and not OutgoingEmail.objects.exists()
    assert not MacroUse.objects.exists()


def test_the_preview_of_a_ticket_the_agent_cannot_see_is_a_404(queue, agent):
    other = QueueFactory()
    macro = Macro.objects.create(name="Mine", body="x", owner=agent)
    response = client_for(agent).get(reverse("macros:preview", args=[new_ticket(other).pk]), {"macro": macro.pk})
    assert response.status_code == 404


def test_the_preview_fills_the_text_escaped_and_lists_the_actions(queue, agent):
    ticket = new_ticket(queue, name="<b>Ada</b> King")
    macro = shared(queue, body="Hi {{ customer.first_name }} <script>", set_status=Status.PENDING)

    page = client_for(agent).get(reverse("macros:preview", args=[ticket.pk]), {"macro": macro.pk}).text

    assert "Hi &lt;b&gt;Ada&lt;/b&gt; &lt;script&gt;" in page
    assert "When you send it: status → Pending." in page
    assert not MacroUse.objects.exists()  # a GET changes nothing


# --- applying on send -----------------------------------------------------------------------------------------------


def test_sending_with_a_macro_performs_its_actions_and_counts_its_use(queue, agent):
    ticket = new_ticket(queue)
    macro = shared(queue, set_status=Status.PENDING, set_priority=Priority.HIGH, assign=Macro.Assign.ME)

    page = client_for(agent).post(
        reverse("tickets:reply", args=[ticket.pk]), {"body": "Please restart it.", "macro": macro.pk}, follow=True
    )

    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.assignee) == (Status.PENDING, Priority.HIGH, agent)
    kinds = set(ticket.events.values_list("kind", flat=True))
    assert {"status", "priority", "assignee", "message"} <= kinds
    assert Message.objects.get(kind=Message.Kind.PUBLIC_REPLY).body == "Please restart it."
    assert MacroUse.objects.get().macro == macro
    assert "macro “Restart” applied (status → Pending, priority → High, assign → the agent who applies it)" in page.text


def test_a_macro_and_the_send_and_close_button_together(queue, agent):
    ticket = new_ticket(queue)
    macro = shared(queue, set_priority=Priority.LOW)

    client_for(agent).post(
        reverse("tickets:reply", args=[ticket.pk]), {"body": "Done.", "macro": macro.pk, "then": "close:solved"}
    )

    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority) == (Status.CLOSED, Priority.LOW)


def test_a_macro_adds_its_tags_through_the_tags_service_with_an_event_each(queue, agent):
    ticket = new_ticket(queue)
    tickets.ticket_tag_add(ticket_id=ticket.pk, name="vip", by=agent)
    macro = shared(queue, add_tags="refund, VIP")

    page = client_for(agent).post(
        reverse("tickets:reply", args=[ticket.pk]), {"body": "Refunded.", "macro": macro.pk}, follow=True
    )

    added = ticket.events.filter(kind="tag_added").order_by("id").values_list("new_value", flat=True)
    assert list(added) == ["vip", "refund"]  # vip was there already: no second event
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["refund", "vip"]
    assert "tags + refund, VIP" in page.text


def test_a_macro_s_tags_are_checked_when_it_is_saved(agent):
    client = client_for(agent)
    data = {"name": "Tagged", "body": "Hi", "active": "on"}

    refused = client.post(reverse("macros:new"), {**data, "add_tags": "ok, <b>"})
    saved = client.post(reverse("macros:new"), {**data, "add_tags": " refund ,Refund,late  reply"})

    assert refused.status_code == 400 and "letters, digits" in refused.text
    assert saved.status_code == 302 and Macro.objects.get().add_tags == "refund, late reply"


# --- managing -------------------------------------------------------------------------------------------------------


def test_an_agent_writes_a_personal_macro_and_cannot_share_it_with_a_queue_they_do_not_lead(queue, agent):
    client = client_for(agent)
    data = {"name": "Thanks", "body": "Thanks, {{ customer.first_name }}!", "active": "on"}

    assert client.post(reverse("macros:new"), {**data, "queue": queue.pk}).status_code == 400
    assert not Macro.objects.exists()
    assert client.post(reverse("macros:new"), data).status_code == 302
    macro = Macro.objects.get()
    assert (macro.owner, macro.queue, macro.created_by) == (agent, None, agent)


def test_a_lead_shares_one_and_an_agent_can_use_but_not_edit_it(queue, lead, agent):
    response = client_for(lead).post(
        reverse("macros:new"), {"name": "Refund", "body": "Refunded.", "queue": queue.pk, "active": "on"}
    )
    assert response.status_code == 302
    macro = Macro.objects.get()
    assert (macro.queue, macro.owner) == (queue, None)

    client = client_for(agent)
    listing = client.get(reverse("macros:list")).text
    assert "Refund" in listing and reverse("macros:edit", args=[macro.pk]) not in listing
    assert client.get(reverse("macros:edit", args=[macro.pk])).status_code == 404
    assert client.post(reverse("macros:delete", args=[macro.pk])).status_code == 404
    assert Macro.objects.filter(pk=macro.pk).exists()


def test_delete_is_post_only_with_csrf(queue, agent):
    macro = Macro.objects.create(name="Mine", body="x", owner=agent)
    assert client_for(agent).get(reverse("macros:delete", args=[macro.pk])).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(agent)
    assert strict.post(reverse("macros:delete", args=[macro.pk])).status_code == 403
    assert strict.post(reverse("macros:new"), {"name": "x", "body": "y"}).status_code == 403
    assert client_for(agent).post(reverse("macros:delete", args=[macro.pk])).status_code == 302
    assert not Macro.objects.exists()


def test_leads_see_each_macro_s_uses_in_the_last_30_days(queue, lead, agent):
    macro = shared(queue)
    for _ in range(3):
        ticket = new_ticket(queue)
        client_for(agent).post(reverse("tickets:reply", args=[ticket.pk]), {"body": "Hi", "macro": macro.pk})

    page = client_for(lead).get(reverse("macros:list")).text
    assert "<td>3</td>" in page
    assert QueueMembership.objects.filter(user=lead, role="lead").exists()


def test_the_macros_page_shows_an_empty_state(agent):
    assert "No macros yet." in client_for(agent).get(reverse("macros:list")).text
