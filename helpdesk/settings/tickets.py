"""Settings of the tickets app (links in emails, privacy, SLA), imported by helpdesk.settings.base."""

from .environment import env

# Absolute links in emails (survey, unsubscribe, conversation) start with this.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")
# Privacy: customers whose tickets were all closed longer ago than this many days are erased by beat (tickets.erasure:
# name, email and free text replaced, the tickets and figures kept). 0 keeps personal data until an admin erases it.
PERSONAL_DATA_RETENTION_DAYS = env.int("PERSONAL_DATA_RETENTION_DAYS", default=0)
# SLA policies: how often beat records and mails the warnings and breaches of SLA targets (tickets.sla.alerts).
SLA_SWEEP_SECONDS = env.float("SLA_SWEEP_SECONDS", default=60.0)
