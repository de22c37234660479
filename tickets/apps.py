from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = "Tickets"

    def ready(self) -> None:
        from common.tokens import token_purpose_register

        from .models import CONVERSATION_LINK_PURPOSE, Ticket

        token_purpose_register(purpose=CONVERSATION_LINK_PURPOSE, model=Ticket)
