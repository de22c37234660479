from typing import Any

from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "outbox"
    verbose_name = "Outbox"

    def ready(self) -> None:
        from celery.signals import beat_init, before_task_publish

        from .models import OutgoingEmail
        from .passwords import password_reset_render
        from .renderers import email_renderer_register

        email_renderer_register(kind=OutgoingEmail.Kind.PASSWORD_RESET, render=password_reset_render)

        def mark_beat_process(**kwargs: Any) -> None:
            before_task_publish.connect(record_beat_heartbeat, weak=False, dispatch_uid="outbox-beat-heartbeat")

        def record_beat_heartbeat(**kwargs: Any) -> None:
            from .services import heartbeat_record

            heartbeat_record(name="beat")

        beat_init.connect(mark_beat_process, weak=False, dispatch_uid="outbox-beat-init")
