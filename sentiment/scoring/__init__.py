"""How a text sounds: the scorer the sentiment app stores the results of (pure: no database, no network).

`text_score(text)` → `Scored`: negative / neutral / positive with a score in −1…1, the text's language and the
scorer's version, or `not_scored` (another language than the scorer reads, too short to tell) with the reason.
A text it cannot score is never called neutral.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Label(StrEnum):
    NEGATIVE = "negative"
    NEUTRAL = "neutral"
    POSITIVE = "positive"
    NOT_SCORED = "not_scored"


@dataclass(frozen=True)
class Scored:
    label: Label
    score: float | None  # −1…1; None when not scored
    language: str  # ISO 639-1 as identified ("" when unknown)
    version: str  # the scorer's version, stored with every score
    reason: str = ""  # why it was not scored


def text_score(text: str) -> Scored:
    """Placeholder until the scorer lands: everything is not scored."""
    return Scored(label=Label.NOT_SCORED, score=None, language="", version="0", reason="no scorer yet")
