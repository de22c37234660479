"""The rules of a survey answer as pure functions (no database): what is poor, and what the copies of an answer hold.

surveys.services and the demo generator both call them, so demo data follows the same rules as real answers.
"""

from __future__ import annotations

from typing import Any

from .models import SurveyPolicy


def answer_is_poor(*, csat: int | None, ces: int | None, policy: SurveyPolicy) -> bool:
    """At or below the policy's poor threshold on either scale (CSAT ≤ poor_csat_max or CES ≤ poor_ces_max)."""
    return (csat is not None and csat <= policy.poor_csat_max) or (ces is not None and ces <= policy.poor_ces_max)


def invitation_answer_copy(*, csat: int | None, ces: int | None, comment: str, flagged: bool) -> dict[str, Any]:
    """The invitation's answer_* fields for this answer (the feedback figures read them). A link scanner's burst
    (flagged) does not count: no scores, no comment."""
    counted = not flagged
    return {
        "answer_counted": counted,
        "answer_csat": csat if counted else None,
        "answer_ces": ces if counted else None,
        "answer_commented": counted and bool(comment),
    }


def ticket_rating_copy(*, csat: int | None, ces: int | None, flagged: bool, policy: SurveyPolicy) -> dict[str, Any]:
    """The ticket's TicketRating fields for its latest answer: the scores as given; poor only when counted."""
    return {"csat": csat, "ces": ces, "poor": not flagged and answer_is_poor(csat=csat, ces=ces, policy=policy)}
