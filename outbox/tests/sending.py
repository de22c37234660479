"""For tests of any app: send what the outbox holds, as the sweep and a worker would, in this process."""

from __future__ import annotations

from datetime import datetime

import time_machine

from outbox.services import email_jobs, outbox_send


def outbox_deliver(*, at: datetime | None = None) -> int:
    """Claim the rows due (at `at`, default now) and send them; returns how many were sent."""
    if at is not None:
        with time_machine.travel(at, tick=False):
            return outbox_deliver()
    token, ids = email_jobs.claim_due()
    return outbox_send(email_ids=ids, claim_token=token)
