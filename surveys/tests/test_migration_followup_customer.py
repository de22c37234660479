"""surveys 0012/0013: every existing follow-up keeps its values and gains its ticket's customer; NPS answers given
before are marked settled, so no follow-up is opened for an answer of months ago."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from surveys.services import nps_answers_settle_due
from surveys.tests.migrating import migrate_to, migrate_to_latest

BEFORE = [("surveys", "0011_nps")]
AFTER = [("surveys", "0013_followups_of_nps_answers")]
AT = datetime(2026, 9, 2, 9, 0, tzinfo=UTC)


@pytest.mark.django_db(transaction=True)
def test_follow_ups_keep_their_values_and_gain_their_customer(queue, agent, back_to_the_latest):
    apps = migrate_to(BEFORE)
    Customer = apps.get_model("tickets", "Customer")
    Ticket = apps.get_model("tickets", "Ticket")
    Invitation = apps.get_model("surveys", "SurveyInvitation")
    FollowUp = apps.get_model("surveys", "FollowUp")
    NpsSurvey = apps.get_model("surveys", "NpsSurvey")
    customers = [Customer.objects.create(email=f"c{n}@example.org", name=f"C{n}") for n in range(2)]
    followups = {}
    for customer in customers:
        ticket = Ticket.objects.create(
            queue_id=queue.pk, customer=customer, subject="Late", status="closed", close_reason="solved", closed_at=AT
        )
        invitation = Invitation.objects.create(
            ticket=ticket, round=1, queue_id=queue.pk, customer=customer, agent_id=agent.pk, status="answered",
            closed_at=AT, send_after=AT, sent_at=AT,
        )  # fmt: skip
        followup = FollowUp.objects.create(
            invitation=invitation, ticket=ticket, queue_id=queue.pk, owner_id=agent.pk, status="resolved", due_at=AT,
            created_at=AT, closed_at=AT, outcome="Refunded", root_cause="policy",
        )  # fmt: skip
        followups[followup.pk] = (invitation.pk, ticket.pk, customer.pk)
    old_answer = NpsSurvey.objects.create(
        customer=customers[0], queue_id=queue.pk, status="answered", send_after=AT, sent_at=AT, score=2, answered_at=AT
    )

    apps = migrate_to(AFTER)
    FollowUp = apps.get_model("surveys", "FollowUp")
    got = {
        row["pk"]: row
        for row in FollowUp.objects.values("pk", "invitation_id", "ticket_id", "customer_id", "status", "outcome")
    }
    assert {pk: (r["invitation_id"], r["ticket_id"], r["customer_id"]) for pk, r in got.items()} == followups
    assert {(r["status"], r["outcome"]) for r in got.values()} == {("resolved", "Refunded")}
    NpsSurvey = apps.get_model("surveys", "NpsSurvey")
    assert NpsSurvey.objects.get(pk=old_answer.pk).settled_at == AT

    migrate_to_latest()
    assert nps_answers_settle_due() == 0  # the old detractor's answer opens nothing
    assert FollowUp.objects.count() == 2
