"""Settings of email out (the outbox: delivery, retries, maximum ages) and of /healthz, imported by
helpdesk.settings.base."""

from .environment import VAR_DIR, env

# Dev mailbox (outbox.devmail): where the dev delivery backend writes each email as an .eml file.
DEV_MAIL_DIR = env.path("DEV_MAIL_DIR", default=VAR_DIR / "mail")

DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Support <support@example.com>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# All mail goes through the outbox (outbox/): Django's own mail is queued there too, and the outbox's sender
# delivers with OUTBOX_DELIVERY_BACKEND (SMTP from EMAIL_URL in production, var/mail/ in dev).
EMAIL_BACKEND = "outbox.backends.OutboxEmailBackend"
EMAIL_URL = env("EMAIL_URL", default="")
if EMAIL_URL:  # e.g. smtp+tls://user:password@smtp.example.com:587
    _email = env.email_url("EMAIL_URL")
    OUTBOX_DELIVERY_BACKEND = _email.pop("EMAIL_BACKEND")
    vars().update(_email)
else:
    OUTBOX_DELIVERY_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
# The outbox's retry rule (common.leased_jobs, README "How email works"): every claim is an attempt, at most
# OUTBOX_MAX_ATTEMPTS; SMTP 4xx to RCPT/DATA backs off (base, 2×base, … capped); transport trouble spends no attempt and
# opens the "smtp" circuit breaker for OUTBOX_BREAKER_BASE_SECONDS, doubled after each failed probe up to the max.
OUTBOX_LEASE_SECONDS = env.int("OUTBOX_LEASE_SECONDS", default=300)  # each send starts with half of it left, at least
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=8)
OUTBOX_RETRY_BASE_SECONDS = env.int("OUTBOX_RETRY_BASE_SECONDS", default=60)
OUTBOX_RETRY_MAX_SECONDS = env.int("OUTBOX_RETRY_MAX_SECONDS", default=3600)
OUTBOX_BREAKER_BASE_SECONDS = env.int("OUTBOX_BREAKER_BASE_SECONDS", default=30)
OUTBOX_BREAKER_MAX_SECONDS = env.int("OUTBOX_BREAKER_MAX_SECONDS", default=300)
# An email kind's maximum age is in its registration (outbox.kinds); OUTBOX_MAX_AGE_HOURS_<KIND> overrides it.
OUTBOX_BATCH_SIZE = env.int("OUTBOX_BATCH_SIZE", default=20)
OUTBOX_SWEEP_SECONDS = env.float("OUTBOX_SWEEP_SECONDS", default=15.0)
# /healthz answers 503 when beat or worker is silent longer than this, a due email waits longer than that, or SMTP has
# been unreachable (its circuit breaker open) longer than HEALTH_MAX_SMTP_DOWN_SECONDS.
HEALTH_MAX_SILENCE_SECONDS = env.int("HEALTH_MAX_SILENCE_SECONDS", default=120)
HEALTH_MAX_EMAIL_DELAY_SECONDS = env.int("HEALTH_MAX_EMAIL_DELAY_SECONDS", default=600)
HEALTH_MAX_SMTP_DOWN_SECONDS = env.int("HEALTH_MAX_SMTP_DOWN_SECONDS", default=300)
OUTBOX_MESSAGE_ID_DOMAIN = env("OUTBOX_MESSAGE_ID_DOMAIN", default="helpdesk.local")
