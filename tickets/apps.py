from datetime import timedelta

from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = "Tickets"

    def ready(self) -> None:
        from common.tokens import token_purpose_register
        from outbox.kinds import email_kind_register

        from . import saved_views
        from .email_kinds import TicketEmail
        from .event_texts import ticket_event_kinds_own_register
        from .models import CONVERSATION_LINK_PURPOSE, Ticket
        from .notifications import reply_notification_render, request_confirmation_render

        token_purpose_register(purpose=CONVERSATION_LINK_PURPOSE, model=Ticket)
        week = timedelta(days=7)
        for key, label, max_age, render in [
            (TicketEmail.REPLY_NOTIFICATION, "Reply notification", week, reply_notification_render),
            (TicketEmail.CONFIRMATION, "Request confirmation", week, request_confirmation_render),
            (TicketEmail.SLA_WARNING, "SLA warning", timedelta(hours=4), None),  # worth reading before the due time
            (TicketEmail.SLA_BREACH, "SLA breach", timedelta(days=1), None),
        ]:
            email_kind_register(app=self.label, key=key, label=label, max_age=max_age, render=render)
        ticket_event_kinds_own_register(app=self.label)
        saved_views.register()
