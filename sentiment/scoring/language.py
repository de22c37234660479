"""Which language a text is in: py3langid restricted to the languages a support desk here meets (loaded once per
process, on first use). Short texts fool any identifier ("ok", "Perfect"), so a text of a few words counts as English
when its words are English words (VADER's lexicon or a small list of common words), and a text the identifier is
unsure of is not scored at all."""

from __future__ import annotations

import re
from functools import cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "pt"]
SURE = 0.5  # the identifier's (normalised) probability above which its answer is taken
SHORT_WORDS = 4  # up to this many words, the word list decides

COMMON_ENGLISH = frozenset(
    """a an the i you we it is are was be been not no yes ok okay k done please thanks thank again still broken
    fixed works working now all my your this that on in at to for of and or but so luck very much more help sorry
    why what how when where who up down off out back sent file crashed lost wait waiting""".split()  # noqa: SIM905 - a word list
)
WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


@cache
def _identifier() -> LanguageIdentifier:
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(LANGUAGES)
    return identifier


def words(text: str) -> list[str]:
    return [word.lower() for word in WORD.findall(text)]


def language_of(text: str, *, lexicon: frozenset[str]) -> tuple[str, bool]:
    """(language, sure): the identifier's language, or "en" for a short text of English words; `sure` False when
    neither can tell."""
    found = words(text)
    if len(found) <= SHORT_WORDS and found and all(w in COMMON_ENGLISH or w in lexicon for w in found):
        return "en", True
    language, probability = _identifier().classify(text)
    return str(language), probability >= SURE
