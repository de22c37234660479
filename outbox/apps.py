from typing import Any

from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "outbox"
    verbose_name = "Outbox"

    def ready(self) -> None:
        from datetime import timedelta

        from celery.signals import beat_init, before_task_publish

        from .kinds import OutboxEmail, email_kind_register
        from .passwords import password_reset_render

        email_kind_register(
            app=self.label, key=OutboxEmail.SYSTEM, label="System (Django mail)", max_age=timedelta(days=1)
        )
        email_kind_register(
            app=self.label,
            key=OutboxEmail.PASSWORD_RESET,
            label="Password reset",
            max_age=timedelta(hours=2),  # a reset mail that comes hours late only confuses; the person asks again
            render=password_reset_render,
        )

        def mark_beat_process(**kwargs: Any) -> None:
            before_task_publish.connect(record_beat_heartbeat, weak=False, dispatch_uid="outbox-beat-heartbeat")

        def record_beat_heartbeat(**kwargs: Any) -> None:
            from .services import heartbeat_record

            heartbeat_record(name="beat")

        beat_init.connect(mark_beat_process, weak=False, dispatch_uid="outbox-beat-init")
