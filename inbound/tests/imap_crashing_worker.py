"""`python -m inbound.tests.imap_crashing_worker <celery worker arguments>`: a Celery worker whose IMAP poller dies
(os._exit, like a SIGKILL) right after a message is stored and before its UID is recorded. Run with --pool=solo so
the whole worker dies, not one pool child that would be replaced."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings.test")
django.setup()

from celery.__main__ import main  # noqa: E402 - after Django is set up

from inbound import imap  # noqa: E402


def _die(**_: object) -> None:
    os._exit(9)


imap.uid_record = _die

if __name__ == "__main__":
    main()
