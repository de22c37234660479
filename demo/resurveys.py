"""Re-survey demo data: most resolved demo follow-ups got their "Did we make this right?" a day later, about half of
those answered (mostly yes), so the team dashboard's recovery card has figures. Written with bulk_create with the
follow-ups (demo.surveys), from each follow-up's own random stream."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta

from surveys.models import FollowUp, Resurvey

EMAILED_SHARE, ANSWERED_SHARE = 0.85, 0.55
SCORE_WEIGHTS = (12, 10, 14, 28, 36)  # 1..5: about two in three recovered (4–5)
DELAY, EXPIRY = timedelta(hours=24), timedelta(days=28)


def resurveys_create(followups: Sequence[FollowUp], *, seed: int, now: datetime) -> int:
    rows = []
    for followup in followups:
        if followup.status != FollowUp.Status.RESOLVED or followup.closed_at is None:
            continue
        rng = random.Random(f"{seed}:resurvey:{followup.invitation_id}")  # noqa: S311 - demo data
        send_after = followup.closed_at + DELAY
        row = Resurvey(
            followup=followup,
            customer_id=followup.customer_id,
            queue_id=followup.queue_id,
            agent_id=followup.owner_id,
            root_cause=followup.root_cause,
            send_after=send_after,
            created_at=followup.closed_at,
        )
        if send_after > now:
            row.status = Resurvey.Status.SCHEDULED
        elif rng.random() >= EMAILED_SHARE:
            row.status, row.reason = Resurvey.Status.SUPPRESSED, "the customer opted out of surveys"
        else:
            row.sent_at, row.expires_at = send_after, send_after + EXPIRY
            row.status = Resurvey.Status.SENT if row.expires_at > now else Resurvey.Status.EXPIRED
            if rng.random() < ANSWERED_SHARE:
                row.status, row.score = Resurvey.Status.ANSWERED, rng.choices(range(1, 6), SCORE_WEIGHTS)[0]
                row.answered_at = min(send_after + timedelta(minutes=rng.randint(5, 2880)), now)
        rows.append(row)
    Resurvey.objects.bulk_create(rows, batch_size=1000)
    return len(rows)
