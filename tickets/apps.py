from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = "Tickets"

    def ready(self) -> None:
        from common.tokens import token_purpose_register
        from outbox.models import OutgoingEmail
        from outbox.renderers import email_renderer_register

        from . import saved_views
        from .models import CONVERSATION_LINK_PURPOSE, Ticket
        from .notifications import reply_notification_render, request_confirmation_render

        token_purpose_register(purpose=CONVERSATION_LINK_PURPOSE, model=Ticket)
        email_renderer_register(kind=OutgoingEmail.Kind.REPLY_NOTIFICATION, render=reply_notification_render)
        email_renderer_register(kind=OutgoingEmail.Kind.CONFIRMATION, render=request_confirmation_render)
        saved_views.register()
