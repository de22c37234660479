"""`python -m tickets.tests.sla_crashing_worker <celery worker arguments>`: a Celery worker whose SLA sweep dies
(os._exit, like a SIGKILL) right after an alert's event row is written and before its emails are queued. Run with
--pool=solo so the whole worker dies, not one pool child that would be replaced."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings.test")
django.setup()

from celery.__main__ import main  # noqa: E402 - after Django is set up

from tickets.sla import alerts  # noqa: E402


def _die(*_: object, **__: object) -> None:
    os._exit(9)


alerts.email_enqueue_many = _die  # type: ignore[assignment]

if __name__ == "__main__":
    main()
