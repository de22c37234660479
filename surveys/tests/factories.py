"""Bare rows for read-side tests (stats, lists, permissions). Behaviour tests go through the services instead."""

from datetime import timedelta

import factory
from django.utils import timezone

from surveys.models import FollowUp, SurveyInvitation, SurveyResponse
from surveys.services import answer_copies_write, survey_policy_get_or_create
from tickets.models import CloseReason, Status
from tickets.tests.factories import CustomerFactory, QueueFactory, TicketFactory


class ClosedTicketFactory(TicketFactory):
    status = Status.CLOSED
    close_reason = CloseReason.SOLVED
    closed_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=2))


class InvitationFactory(factory.django.DjangoModelFactory):
    """An emailed invitation (status sent, sent_at two days ago) with its snapshot of agent and queue."""

    class Meta:
        model = SurveyInvitation

    queue = factory.SubFactory(QueueFactory)
    customer = factory.SubFactory(CustomerFactory)
    ticket = factory.SubFactory(
        ClosedTicketFactory,
        queue=factory.SelfAttribute("..queue"),
        customer=factory.SelfAttribute("..customer"),
        assignee=factory.SelfAttribute("..agent"),
    )
    agent = None
    round = 1
    status = SurveyInvitation.Status.SENT
    closed_at = factory.LazyAttribute(lambda o: o.ticket.closed_at or timezone.now())
    send_after = factory.LazyAttribute(lambda o: o.closed_at + timedelta(hours=1))
    sent_at = factory.LazyAttribute(lambda o: o.send_after)
    expires_at = factory.LazyAttribute(lambda o: o.sent_at + timedelta(days=28) if o.sent_at else None)


class ResponseFactory(factory.django.DjangoModelFactory):
    """A response with its copies (the invitation's answer_* fields, the ticket's rating) written as the answer
    service writes them."""

    class Meta:
        model = SurveyResponse
        skip_postgeneration_save = True

    invitation = factory.SubFactory(InvitationFactory, status=SurveyInvitation.Status.ANSWERED)
    csat = 5
    ces = 6
    comment = ""
    submitted_via = SurveyResponse.Via.PERSON
    answered_at = factory.LazyAttribute(lambda o: o.invitation.sent_at + timedelta(hours=3))
    updated_at = factory.SelfAttribute("answered_at")
    settled_at = factory.SelfAttribute("answered_at")

    @factory.post_generation
    def copies(obj: SurveyResponse, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            policy = survey_policy_get_or_create(queue_id=obj.invitation.queue_id)
            answer_copies_write(invitation=obj.invitation, response=obj, policy=policy)


class FollowUpFactory(factory.django.DjangoModelFactory):
    """An open follow-up on a poor response, due in 6 hours."""

    class Meta:
        model = FollowUp

    invitation = factory.LazyAttribute(
        lambda o: (
            ResponseFactory(
                invitation__queue=o.queue, invitation__agent=o.owner, csat=1, ces=2, comment="Not happy"
            ).invitation
        )
    )
    queue = factory.SubFactory(QueueFactory)
    owner = None
    ticket = factory.LazyAttribute(lambda o: o.invitation.ticket)
    customer = factory.LazyAttribute(lambda o: o.invitation.customer)
    status = FollowUp.Status.OPEN
    due_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=6))
