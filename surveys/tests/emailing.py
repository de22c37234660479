"""For tests: a survey emailed as in production, its invitation queued and then sent by the outbox."""

from __future__ import annotations

from outbox.tests.sending import outbox_deliver
from surveys import services


def invitation_emailed(*, invitation_id: int) -> bool:
    """invitation_send, then the outbox sends its email (the invitation becomes `sent`). Returns invitation_send's."""
    queued = services.invitation_send(invitation_id=invitation_id)
    outbox_deliver()
    return queued
