"""Settings of email in (inbound/, README "How email comes in"), imported by helpdesk.settings.base."""

from .environment import env

# The per-ticket reply address support+<ticket>.<mac>@…: an HMAC with this key of its own (not SECRET_KEY, so
# rotating one does not break the other). Production requires it.
_DEV_INBOUND_REPLY_KEY = "dev-only-inbound-reply-key"
INBOUND_REPLY_ADDRESS_KEY = env("INBOUND_REPLY_ADDRESS_KEY", default=_DEV_INBOUND_REPLY_KEY)
# IMAP passwords are stored encrypted with this Fernet key (44 url-safe base64 characters; make one with
# `python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`). Production requires it.
_DEV_INBOUND_CREDENTIALS_KEY = "ZGV2LW9ubHktaW5ib3VuZC1jcmVkZW50aWFscy1rZXk="
INBOUND_CREDENTIALS_KEY = env("INBOUND_CREDENTIALS_KEY", default=_DEV_INBOUND_CREDENTIALS_KEY)
# The gateway (manage.py mail_gateway): where it listens, and the largest message it accepts (SIZE, 552 after DATA).
INBOUND_GATEWAY_HOST = env("INBOUND_GATEWAY_HOST", default="127.0.0.1")
INBOUND_GATEWAY_PORT = env.int("INBOUND_GATEWAY_PORT", default=2525)
INBOUND_MAX_MESSAGE_BYTES = env.int("INBOUND_MAX_MESSAGE_BYTES", default=30 * 1024 * 1024)
# Raw messages larger than this are kept in file storage (STORAGES["default"]) instead of the database row.
INBOUND_RAW_INLINE_MAX_BYTES = env.int("INBOUND_RAW_INLINE_MAX_BYTES", default=256 * 1024)
# Authentication-Results headers are believed only when added by these receiving hosts (authserv-id), e.g. the
# desk's own MTA: "mx.example.com". Empty: never believed (a subject tag alone is always held).
INBOUND_TRUSTED_AUTHSERV_IDS = env.list("INBOUND_TRUSTED_AUTHSERV_IDS", default=[])
# Acknowledgements of new tickets by email (Auto-Submitted: auto-replied): at most this many per sender per day.
INBOUND_ACKS_PER_SENDER_PER_DAY = env.int("INBOUND_ACKS_PER_SENDER_PER_DAY", default=3)
INBOUND_SWEEP_SECONDS = env.float("INBOUND_SWEEP_SECONDS", default=60.0)
INBOUND_IMAP_POLL_SECONDS = env.float("INBOUND_IMAP_POLL_SECONDS", default=60.0)
