from django.apps import AppConfig


class InboundConfig(AppConfig):
    name = "inbound"
    verbose_name = "Email in"

    def ready(self) -> None:
        from . import ticket_pages

        ticket_pages.register()
