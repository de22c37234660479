from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "surveys"
    verbose_name = "Surveys"

    def ready(self) -> None:
        from tickets.signals import ticket_closed, ticket_reopened

        from . import receivers

        ticket_closed.connect(receivers.on_ticket_closed, dispatch_uid="surveys-on-close")
        ticket_reopened.connect(receivers.on_ticket_reopened, dispatch_uid="surveys-on-reopen")
