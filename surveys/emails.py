"""Survey emails, rendered when the outbox sends them (the renderers of the kinds `survey`, `survey_reminder`,
`resurvey` and `nps`, registered in SurveysConfig.ready). The outbox row holds only the survey's id; the links and
their tokens are made here, right before the email is sent, so only the tokens' hashes are ever stored: one survey
token (valid until the survey expires) and one unsubscribe token (the page and RFC 8058's one-click POST, valid
unsubscribe_link_days() from the email, so a customer can opt out long after the survey closed). A survey that should
no longer be emailed (answered, cancelled, expired, its customer opted out) gets no email: EmailNotWanted."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.db.models import Case, F, Value, When
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from common.links import absolute_url
from common.tokens import token_mint
from outbox.addresses import mailbox_format
from outbox.kinds import EmailNotWanted, EmailOutcome, RenderedEmail
from outbox.models import OutgoingEmail
from tickets.models import Customer

from .models import (
    CSAT_CHOICES,
    NPS_LINK_PURPOSE,
    NPS_QUESTION,
    NPS_SCORES,
    RESURVEY_CHOICES,
    RESURVEY_LINK_PURPOSE,
    RESURVEY_QUESTION,
    SURVEY_LINK_PURPOSE,
    SURVEY_UNSUBSCRIBE_PURPOSE,
    NpsSurvey,
    Resurvey,
    SurveyInvitation,
    unsubscribe_link_days,
)
from .services.policies import survey_policy_get_or_create

# The survey email goes to an invitation queued for it (or not emailed, when an admin retries its email); a reminder
# to one that was emailed.
EMAIL_TO = (SurveyInvitation.Status.QUEUED, SurveyInvitation.Status.NOT_EMAILED)
REMINDER_TO = (SurveyInvitation.Status.SENT,)


def _invitation(invitation_id: int, *, reminder: bool) -> SurveyInvitation:
    """The invitation, if it is still to be emailed."""
    invitation = SurveyInvitation.objects.select_related("ticket", "customer__survey_opt_out", "agent", "queue").get(
        pk=invitation_id
    )
    if invitation.status not in (REMINDER_TO if reminder else EMAIL_TO):
        raise EmailNotWanted(f"the survey is {invitation.get_status_display().lower()}")
    if invitation.reopened_at is not None:
        raise EmailNotWanted("the ticket was reopened")
    if hasattr(invitation.customer, "survey_opt_out"):
        raise EmailNotWanted("the customer opted out of surveys")
    if invitation.expires_at is None or invitation.expires_at <= timezone.now():
        raise EmailNotWanted("the survey expired")
    return invitation


def _unsubscribe_links(customer: Customer) -> tuple[str, dict[str, str]]:
    """The unsubscribe page's link, and the headers naming the RFC 8058 one-click link."""
    token = token_mint(
        purpose=SURVEY_UNSUBSCRIBE_PURPOSE,
        target=customer,
        expires_at=timezone.now() + timedelta(days=unsubscribe_link_days()),
    )
    one_click = absolute_url(reverse("surveys:unsubscribe-one-click", args=[token]))
    headers = {"List-Unsubscribe": f"<{one_click}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    return absolute_url(reverse("surveys:unsubscribe", args=[token])), headers


def _render(spec: dict[str, Any], *, reminder: bool) -> RenderedEmail:
    invitation = _invitation(spec["invitation_id"], reminder=reminder)
    assert invitation.expires_at is not None  # noqa: S101 - checked by _invitation
    policy = survey_policy_get_or_create(queue_id=invitation.queue_id)
    raw = token_mint(purpose=SURVEY_LINK_PURPOSE, target=invitation, expires_at=invitation.expires_at)
    unsubscribe, headers = _unsubscribe_links(invitation.customer)
    landing = absolute_url(reverse("surveys:landing", args=[raw]))
    ticket, queue, agent = invitation.ticket, invitation.queue, invitation.agent
    context = {
        "invitation": invitation,
        "ticket": ticket,
        "customer_first_name": invitation.customer.first_name,
        "agent_first_name": (agent.first_name or agent.get_username()) if agent else "",
        "queue": queue,
        "policy": policy,
        "reminder": reminder,
        "landing_url": landing,
        "csat_links": [(score, label, f"{landing}?csat={score}") for score, label in reversed(CSAT_CHOICES)],
        "unsubscribe_url": unsubscribe,
        "expires_at": invitation.expires_at,
    }
    return RenderedEmail(
        to=invitation.customer.email,
        from_email=mailbox_format(name=queue.name, address=queue.reply_from_email),
        subject=render_to_string("surveys/email/subject.txt", context).strip(),
        text=render_to_string("surveys/email/invitation.txt", context),
        html=render_to_string("surveys/email/invitation.html", context),
        headers=headers,
    )


def survey_email_render(spec: dict[str, Any]) -> RenderedEmail:
    return _render(spec, reminder=False)


def survey_reminder_render(spec: dict[str, Any]) -> RenderedEmail:
    return _render(spec, reminder=True)


def survey_email_outcomes(outcomes: Sequence[EmailOutcome]) -> None:
    """The outbox's word on survey emails (in its transaction): sent → the invitation is emailed, at the send time;
    failed or cancelled → not emailed, with the reason. One UPDATE per email. An invitation answered between the send
    and this call (the customer clicked at once) keeps its status and gets its sent_at; one withdrawn meanwhile (its
    status changed otherwise) is left as it is."""
    Status = SurveyInvitation.Status
    for outcome in outcomes:
        if outcome.related_id is None:
            continue
        invitation = SurveyInvitation.objects.filter(pk=outcome.related_id)
        if outcome.status == OutgoingEmail.Status.SENT:
            invitation.filter(sent_at__isnull=True, status__in=(*EMAIL_TO, Status.ANSWERED)).update(
                status=Case(When(status__in=EMAIL_TO, then=Value(Status.SENT)), default=F("status")),
                sent_at=outcome.at,
                not_emailed_reason="",
            )
        else:
            invitation.filter(status=Status.QUEUED).update(
                status=Status.NOT_EMAILED, not_emailed_reason=outcome.reason[:300]
            )


def resurvey_email_render(spec: dict[str, Any]) -> RenderedEmail:
    """The re-survey email: "Did we make this right?" with one link per score, if it is still to be emailed."""
    resurvey = (
        Resurvey.objects.select_related("customer__survey_opt_out", "queue", "followup__ticket")
        .filter(pk=spec["resurvey_id"])
        .first()
    )
    if resurvey is None or resurvey.status not in (Resurvey.Status.QUEUED, Resurvey.Status.NOT_EMAILED):
        raise EmailNotWanted("the re-survey is no longer to be emailed")
    if hasattr(resurvey.customer, "survey_opt_out"):
        raise EmailNotWanted("the customer opted out of surveys")
    if resurvey.expires_at is None or resurvey.expires_at <= timezone.now():
        raise EmailNotWanted("the re-survey expired")
    ticket = resurvey.followup.ticket
    assert ticket is not None  # noqa: S101 - only a ticket's follow-up gets a re-survey (resurvey_schedule)
    raw = token_mint(purpose=RESURVEY_LINK_PURPOSE, target=resurvey, expires_at=resurvey.expires_at)
    landing = absolute_url(reverse("surveys:resurvey", args=[raw]))
    unsubscribe, headers = _unsubscribe_links(resurvey.customer)
    context = {
        "customer_first_name": resurvey.customer.first_name,
        "ticket": ticket,
        "queue": resurvey.queue,
        "question": RESURVEY_QUESTION,
        "score_links": [(score, label, f"{landing}?score={score}") for score, label in reversed(RESURVEY_CHOICES)],
        "unsubscribe_url": unsubscribe,
        "expires_at": resurvey.expires_at,
    }
    return RenderedEmail(
        to=resurvey.customer.email,
        from_email=mailbox_format(name=resurvey.queue.name, address=resurvey.queue.reply_from_email),
        subject=f"{RESURVEY_QUESTION} [{ticket.reference}]",
        text=render_to_string("surveys/email/resurvey.txt", context),
        html=render_to_string("surveys/email/resurvey.html", context),
        headers=headers,
    )


def nps_email_render(spec: dict[str, Any]) -> RenderedEmail:
    """The NPS email: "How likely are you to recommend us…?" with one link per score 0–10, if it is still to be
    emailed. It comes from the queue of the customer's latest closed ticket (the team they know)."""
    nps = NpsSurvey.objects.select_related("customer__survey_opt_out", "queue").filter(pk=spec["nps_id"]).first()
    if nps is None or nps.status not in (NpsSurvey.Status.QUEUED, NpsSurvey.Status.NOT_EMAILED):
        raise EmailNotWanted("the NPS survey is no longer to be emailed")
    if hasattr(nps.customer, "survey_opt_out"):
        raise EmailNotWanted("the customer opted out of surveys")
    if nps.expires_at is None or nps.expires_at <= timezone.now():
        raise EmailNotWanted("the NPS survey expired")
    raw = token_mint(purpose=NPS_LINK_PURPOSE, target=nps, expires_at=nps.expires_at)
    landing = absolute_url(reverse("surveys:nps", args=[raw]))
    unsubscribe, headers = _unsubscribe_links(nps.customer)
    context = {
        "customer_first_name": nps.customer.first_name,
        "queue": nps.queue,
        "question": NPS_QUESTION,
        "score_links": [(score, f"{landing}?score={score}") for score in NPS_SCORES],
        "unsubscribe_url": unsubscribe,
        "expires_at": nps.expires_at,
    }
    return RenderedEmail(
        to=nps.customer.email,
        from_email=mailbox_format(name=nps.queue.name, address=nps.queue.reply_from_email),
        subject="One question: how likely are you to recommend us?",
        text=render_to_string("surveys/email/nps.txt", context),
        html=render_to_string("surveys/email/nps.html", context),
        headers=headers,
    )
