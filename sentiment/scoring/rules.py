"""Support-mail rules on top of VADER, which reads a general lexicon and misses how support mail sounds: a customer
waiting or writing again is unhappy whatever words they use ("still not fixed", "third time I write"), a sarcastic
"great, another…" is a complaint, the clause after "but" is what the customer means, and a polite request is neutral
however many "please" and "appreciate" it holds. Tuned on the tune half of sentiment/eval/support_texts.tsv only."""

from __future__ import annotations

import re

_I = re.IGNORECASE

WAITING = re.compile(
    r"\bstill\s+(?:not|no|waiting|broken|missing|happening|there|can't|cannot|doesn't|isn't|fails?|failing)\b"
    r"|\b(?:second|third|fourth|fifth|\d+(?:st|nd|rd|th))\s+(?:time|reminder|request|email)\b"
    r"|\b(?:three|four|five|several|many|\d+)\s+times\b|\btwice\b"
    r"|\bwaiting\s+(?:for\s+)?(?:\w+\s+){0,3}(?:days?|weeks?|hours?|month)\b|\b(?:days?|weeks?)\s+without\b"
    r"|\bno\s+(?:response|answer|reply|progress|luck|help)\b|\bany\s+update\b|\bis\s+anyone\b"
    r"|\bnot\s+(?:fixed|resolved|working|solved)\b|\bnothing\s+(?:has|was|happens|has\s+changed)"
    r"|\balready\s+(?:explained|asked|called|told|sent)\b|\bsame\s+(?:problem|bug|error|answer|issue)\b"
    r"|\b(?:came|is)\s+back\b|\bagain\b|\bbeen\s+open\b|\bpersists\b|\bwithout\s+fixing\b|\bexplain\s+this\s+again\b",
    _I,
)
# Complaints VADER's lexicon reads as neutral (or positive: "care", "joke").
COMPLAINT = re.compile(
    r"\bnobody\s+(?:answered|seems|cares|followed|replied|called|responded)\b|\bnever\s+(?:arrived|came|got)\b"
    r"|\bfed\s+up\b|\ba\s+joke\b|\bfreez\w*|\bdid\s+not\s+(?:solve|help|work|fix)\b|\bfar\s+too\s+(?:long|slow)\b"
    r"|\bdisaster\b|\bis\s+gone\b|\bclosed\s+on\s+me\b|\bshows\s+nothing\b|\bconstant\s+outages?\b",
    _I,
)
POSITIVE_AGAIN = re.compile(r"\b(?:works?|working|runs?)\s+(?:again|now)\b|\bfixed\b(?!\s+again)|\bsolved\b", _I)
SARCASM_OPENERS = re.compile(
    r"^\W*(?:oh\s+)?(?:great|wow|just\s+perfect|perfect|fantastic|brilliant|nice|awesome|wonderful|impressive|cool"
    r"|sure|yeah|well\s+done|love\s+how|what\s+a\s+surprise|thanks\s+(?:a\s+lot|so\s+much)\s+for)\b",
    _I,
)
SARCASM_TAIL = re.compile(
    r"\b(?:crash\w*|broke\w*|break\w*|down|lose|lost|delet\w*|dead|worse|charged|without|nothing|only\s+took"
    r"|restart|mistake|outage|can't|again|automated)\b",
    _I,
)
CONTRAST = re.compile(r"\b(?:but|however|though|although)\b|,\s*(?=\w+\s+answer\b)", _I)
REQUEST = re.compile(
    r"^\W*(?:please|kindly|could|can|would|will|is\s+there|is\s+it|do\s+you|how|what|where|when|which|i\s+would\s+like"
    r"|i'd\s+like|i\s+need|we\s+need|i\s+would\s+appreciate|let\s+me\s+know|yes)\b|\bplease\b|\?\s*$",
    _I,
)


def is_waiting(text: str) -> bool:
    """A customer waiting, writing again, or complaining in words VADER does not know."""
    if COMPLAINT.search(text):
        return True
    return bool(WAITING.search(text)) and not (POSITIVE_AGAIN.search(text) and not re.search(r"\bstill\b", text, _I))


def is_sarcastic(text: str) -> bool:
    opener = SARCASM_OPENERS.match(text)
    return opener is not None and bool(SARCASM_TAIL.search(text[opener.end() :]))


def after_contrast(text: str) -> str | None:
    """The clause after the last "but"/"however"/"though", if any (what the customer means)."""
    parts = CONTRAST.split(text)
    return parts[-1] if len(parts) > 1 and parts[-1].strip() else None


def is_request(text: str) -> bool:
    return bool(REQUEST.search(text.strip()))
