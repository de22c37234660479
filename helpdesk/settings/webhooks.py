"""Settings of the outgoing webhooks (webhooks/), imported by helpdesk.settings.base."""

from .environment import env

# Outgoing webhooks (webhooks/): one POST per try with this timeout; 5xx/429 are retried with backoff (base, 2×base, …
# capped), every claim an attempt, up to WEBHOOK_MAX_ATTEMPTS; connection errors, timeouts, DNS and TLS failures spend
# no attempt and open the endpoint's circuit breaker; a delivery not made within WEBHOOK_MAX_AGE_HOURS fails.
WEBHOOK_TIMEOUT_SECONDS = env.int("WEBHOOK_TIMEOUT_SECONDS", default=10)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=8)
WEBHOOK_RETRY_BASE_SECONDS = env.int("WEBHOOK_RETRY_BASE_SECONDS", default=60)
WEBHOOK_RETRY_MAX_SECONDS = env.int("WEBHOOK_RETRY_MAX_SECONDS", default=3600)
WEBHOOK_BREAKER_BASE_SECONDS = env.int("WEBHOOK_BREAKER_BASE_SECONDS", default=60)
WEBHOOK_BREAKER_MAX_SECONDS = env.int("WEBHOOK_BREAKER_MAX_SECONDS", default=900)
WEBHOOK_MAX_AGE_HOURS = env.int("WEBHOOK_MAX_AGE_HOURS", default=168)
WEBHOOK_LEASE_SECONDS = env.int("WEBHOOK_LEASE_SECONDS", default=120)  # well above the timeout
WEBHOOK_SWEEP_SECONDS = env.float("WEBHOOK_SWEEP_SECONDS", default=15.0)
