"""Survey policies: which one applies to a queue (the default one is created on first use)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Q

from ..models import SurveyPolicy


def survey_policy_get_or_create(*, queue_id: int) -> SurveyPolicy:
    """The queue's own policy, else the default one — created on first use (so no migration data is needed, and a
    test database flushed between tests gets it back)."""
    policies = {p.queue_id: p for p in SurveyPolicy.objects.filter(Q(queue_id=queue_id) | Q(queue__isnull=True))}
    policy = policies.get(queue_id) or policies.get(None)
    if policy is not None:
        return policy
    try:
        with transaction.atomic():
            return SurveyPolicy.objects.create(queue=None)
    except IntegrityError:  # created concurrently
        return SurveyPolicy.objects.get(queue__isnull=True)
