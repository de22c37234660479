from datetime import timedelta

from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "surveys"
    verbose_name = "Surveys"

    def ready(self) -> None:
        from common.tokens import token_purpose_register
        from outbox.kinds import email_kind_register
        from tickets.models import Customer
        from tickets.signals import customer_erased, ticket_closed, ticket_moved, ticket_reopened
        from webhooks.events import webhook_event_register

        from . import receivers, ticket_pages
        from .emails import (
            nps_email_render,
            resurvey_email_render,
            survey_email_outcomes,
            survey_email_render,
            survey_reminder_render,
        )
        from .models import (
            NPS_LINK_PURPOSE,
            RESURVEY_LINK_PURPOSE,
            SURVEY_LINK_PURPOSE,
            SURVEY_UNSUBSCRIBE_PURPOSE,
            NpsSurvey,
            Resurvey,
            SurveyEmail,
            SurveyInvitation,
        )
        from .services import nps_email_outcomes, resurvey_email_outcomes
        from .services.webhook_events import SurveyWebhookEvent

        token_purpose_register(purpose=SURVEY_LINK_PURPOSE, model=SurveyInvitation)
        token_purpose_register(purpose=SURVEY_UNSUBSCRIBE_PURPOSE, model=Customer)
        token_purpose_register(purpose=RESURVEY_LINK_PURPOSE, model=Resurvey)
        token_purpose_register(purpose=NPS_LINK_PURPOSE, model=NpsSurvey)
        three_days, week = timedelta(days=3), timedelta(days=7)
        email_kind_register(  # the outbox's outcome makes the invitation emailed, or not emailed and why
            app=self.label,
            key=SurveyEmail.SURVEY,
            label="Survey",
            max_age=three_days,
            render=survey_email_render,
            on_outcome=survey_email_outcomes,
        )
        email_kind_register(  # the outbox's outcome makes the re-survey sent, or not emailed and why
            app=self.label,
            key=SurveyEmail.RESURVEY,
            label="Re-survey (did we make this right?)",
            max_age=three_days,
            render=resurvey_email_render,
            on_outcome=resurvey_email_outcomes,
        )
        email_kind_register(  # the outbox's outcome makes the NPS survey sent, or not emailed and why
            app=self.label,
            key=SurveyEmail.NPS,
            label="NPS relationship survey",
            max_age=three_days,
            render=nps_email_render,
            on_outcome=nps_email_outcomes,
        )
        for key, label, max_age, render in [
            (SurveyEmail.SURVEY_REMINDER, "Survey reminder", three_days, survey_reminder_render),
            (SurveyEmail.FOLLOWUP_REMINDER, "Follow-up reminder", week, None),
            (SurveyEmail.FOLLOWUP_ESCALATION, "Follow-up escalation", week, None),
        ]:
            email_kind_register(app=self.label, key=key, label=label, max_age=max_age, render=render)
        for event, label in [
            (SurveyWebhookEvent.SURVEY_ANSWERED, "a customer answered (or changed) a survey"),
            (SurveyWebhookEvent.FOLLOWUP_CREATED, "a poor rating opened a recovery follow-up"),
        ]:
            webhook_event_register(app=self.label, key=event, label=f"{event} — {label}")
        ticket_pages.register()
        ticket_closed.connect(receivers.on_ticket_closed, dispatch_uid="surveys-on-close")
        ticket_reopened.connect(receivers.on_ticket_reopened, dispatch_uid="surveys-on-reopen")
        ticket_moved.connect(receivers.on_ticket_moved, dispatch_uid="surveys-on-move")
        customer_erased.connect(receivers.on_customer_erased, dispatch_uid="surveys-on-customer-erased")
