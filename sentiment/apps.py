from datetime import timedelta

from django.apps import AppConfig


class SentimentConfig(AppConfig):
    name = "sentiment"
    verbose_name = "Sentiment"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from outbox.kinds import email_kind_register
        from surveys.models import NpsSurvey, SurveyResponse
        from tickets.models import Message
        from tickets.signals import customer_erased, ticket_moved

        from . import pages, receivers
        from .services import SPIKE_EMAIL

        email_kind_register(app=self.label, key=SPIKE_EMAIL, label="Sentiment spike", max_age=timedelta(hours=2))
        pages.register()
        post_save.connect(receivers.on_message_saved, sender=Message, dispatch_uid="sentiment-on-message")
        post_save.connect(receivers.on_response_saved, sender=SurveyResponse, dispatch_uid="sentiment-on-response")
        post_save.connect(receivers.on_nps_saved, sender=NpsSurvey, dispatch_uid="sentiment-on-nps")
        ticket_moved.connect(receivers.on_ticket_moved, dispatch_uid="sentiment-on-move")
        customer_erased.connect(receivers.on_customer_erased, dispatch_uid="sentiment-on-customer-erased")
