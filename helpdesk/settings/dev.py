from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
if not EMAIL_URL:  # noqa: F405
    OUTBOX_DELIVERY_BACKEND = "outbox.devmail.MailboxBackend"  # writes var/mail/*.eml, shown at /dev/mail/
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
