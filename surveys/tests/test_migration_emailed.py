"""surveys 0008: invitations marked sent before their email went out follow what became of their outbox row."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from surveys.tests.migrating import migrate_to

BEFORE = [("surveys", "0007_invitation_queued_until_the_outbox_sends")]
AFTER = [("surveys", "0008_invitations_emailed_by_their_outbox_row")]
SENT_AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.mark.django_db(transaction=True)
def test_invitations_follow_their_outbox_row(queue, agent, back_to_the_latest):
    apps = migrate_to(BEFORE)
    ContentType = apps.get_model("contenttypes", "ContentType")
    Ticket = apps.get_model("tickets", "Ticket")
    Invitation = apps.get_model("surveys", "SurveyInvitation")
    OutgoingEmail = apps.get_model("outbox", "OutgoingEmail")
    Customer = apps.get_model("tickets", "Customer")
    invitation_type, _ = ContentType.objects.get_or_create(app_label="surveys", model="surveyinvitation")
    customer = Customer.objects.create(email="pat@example.org", name="Pat")
    outcomes = {}
    for n, (email_status, invitation_status) in enumerate(
        [("sent", "sent"), ("queued", "sent"), ("cancelled", "sent"), ("failed", "sent"), ("cancelled", "answered")]
    ):
        ticket = Ticket.objects.create(
            queue_id=queue.pk,
            customer=customer,
            subject=f"T{n}",
            status="closed",
            close_reason="solved",
            closed_at=SENT_AT,
        )
        invitation = Invitation.objects.create(
            ticket=ticket,
            round=1,
            queue_id=queue.pk,
            customer=customer,
            status=invitation_status,
            closed_at=SENT_AT,
            send_after=SENT_AT,
            sent_at=SENT_AT,
        )
        OutgoingEmail.objects.create(
            kind="survey",
            to_email=customer.email,
            status=email_status,
            last_error="pat@example.org bounces" if email_status == "cancelled" else "",
            related_type=invitation_type,
            related_id=invitation.pk,
        )
        outcomes[email_status, invitation_status] = invitation.pk

    apps = migrate_to(AFTER)
    Invitation = apps.get_model("surveys", "SurveyInvitation")
    got = {
        key: Invitation.objects.values_list("status", "sent_at", "not_emailed_reason").get(pk=pk)
        for key, pk in outcomes.items()
    }
    assert got == {
        ("sent", "sent"): ("sent", SENT_AT, ""),
        ("queued", "sent"): ("queued", None, ""),
        ("cancelled", "sent"): ("not_emailed", None, "pat@example.org bounces"),
        ("failed", "sent"): ("not_emailed", None, "failed"),
        ("cancelled", "answered"): ("answered", SENT_AT, ""),  # its email arrived: it was answered
    }
