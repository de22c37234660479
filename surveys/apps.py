from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "surveys"
    verbose_name = "Surveys"

    def ready(self) -> None:
        from common.tokens import token_purpose_register
        from outbox.models import OutgoingEmail
        from outbox.renderers import email_renderer_register
        from tickets.models import Customer
        from tickets.signals import customer_erased, ticket_closed, ticket_moved, ticket_reopened

        from . import receivers, ticket_pages
        from .emails import survey_email_render, survey_reminder_render
        from .models import SURVEY_LINK_PURPOSE, SURVEY_UNSUBSCRIBE_PURPOSE, SurveyInvitation

        token_purpose_register(purpose=SURVEY_LINK_PURPOSE, model=SurveyInvitation)
        token_purpose_register(purpose=SURVEY_UNSUBSCRIBE_PURPOSE, model=Customer)
        email_renderer_register(kind=OutgoingEmail.Kind.SURVEY, render=survey_email_render)
        email_renderer_register(kind=OutgoingEmail.Kind.SURVEY_REMINDER, render=survey_reminder_render)
        ticket_pages.register()
        ticket_closed.connect(receivers.on_ticket_closed, dispatch_uid="surveys-on-close")
        ticket_reopened.connect(receivers.on_ticket_reopened, dispatch_uid="surveys-on-reopen")
        ticket_moved.connect(receivers.on_ticket_moved, dispatch_uid="surveys-on-move")
        customer_erased.connect(receivers.on_customer_erased, dispatch_uid="surveys-on-customer-erased")
