"""How a text sounds: the scorer the sentiment app stores the results of (pure: no database, no network).

`text_score(text)` → `Scored`: negative / neutral / positive with a score in −1…1, the text's language and the
scorer's version, or `not_scored` (another language than English, a language the identifier is unsure of, or no
words at all) with the reason. A text it cannot score is never called neutral. English is scored by VADER
(vaderSentiment, an offline lexicon) corrected by the support rules in `rules`; `manage.py sentiment_eval` measures
both on the labelled set in sentiment/eval/.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from . import rules
from .language import language_of, words

VERSION = "vader-3.3.2+rules-1"
MAX_CHARS = 5000  # a long email is judged by its start (its newest text: quotes are cut before scoring)
POSITIVE_AT, NEGATIVE_AT = 0.3, -0.2  # compound thresholds, chosen on the tune half
VADER_POSITIVE_AT, VADER_NEGATIVE_AT = 0.05, -0.05  # VADER's own, for the baseline


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


@cache
def _vader() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


@cache
def _lexicon() -> frozenset[str]:
    return frozenset(_vader().lexicon)


def _label(compound: float, *, positive_at: float, negative_at: float) -> Label:
    if compound >= positive_at:
        return Label.POSITIVE
    if compound <= negative_at:
        return Label.NEGATIVE
    return Label.NEUTRAL


def _compound(text: str) -> float:
    return float(_vader().polarity_scores(text)["compound"])


def _support_compound(text: str) -> float:
    """VADER's compound, corrected by the support rules."""
    compound = _compound(text)
    tail = rules.after_contrast(text)
    if tail is not None:
        tail_compound = _compound(tail)
        if rules.is_waiting(tail) or tail_compound <= NEGATIVE_AT:
            return min(tail_compound, -0.5)
        if tail_compound >= POSITIVE_AT:
            return max(tail_compound, compound)
    if rules.is_sarcastic(text) or rules.is_waiting(text):
        return min(compound, -0.5)
    if rules.is_request(text) and compound > NEGATIVE_AT:
        return min(compound, POSITIVE_AT / 2)
    return compound


def _not_scored(reason: str, language: str = "") -> Scored:
    return Scored(label=Label.NOT_SCORED, score=None, language=language, version=VERSION, reason=reason)


def text_score(text: str) -> Scored:
    """The text's sentiment; never raises on any string."""
    text = text[:MAX_CHARS]
    if not words(text):
        if not any(ord(char) > 0x2000 for char in text):
            return _not_scored("no words")
        language, sure = "", True  # emoji only: VADER reads them
    else:
        language, sure = language_of(text, lexicon=_lexicon())
    if not sure:
        return _not_scored("language not identified", language)
    if language not in ("en", ""):
        return _not_scored(f"not English ({language})", language)
    compound = _support_compound(text)
    return Scored(
        label=_label(compound, positive_at=POSITIVE_AT, negative_at=NEGATIVE_AT),
        score=round(compound, 4),
        language=language,
        version=VERSION,
    )


def vader_label(text: str) -> Label:
    """Plain VADER with its standard thresholds: the baseline the scorer must beat."""
    return _label(_compound(text[:MAX_CHARS]), positive_at=VADER_POSITIVE_AT, negative_at=VADER_NEGATIVE_AT)
