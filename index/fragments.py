"""Sentences that are not answers: datelines, photo credits, bylines, list markers and headings.

Such pieces stay in the stored text and the index with their exact offsets (they are part of the
article); :func:`is_fragment` only tells the assistant never to offer one as an answer. The test is
deliberately conservative: a short real sentence ("The vote passed.", "He resigned.") is not a
fragment, and anything longer than :data:`MAX_FRAGMENT_CHARS` never is.
"""

from __future__ import annotations

import re

MAX_FRAGMENT_CHARS = 120
"""A longer piece is always treated as a sentence."""

_NAME = r"[A-Z][\w.'’-]*"
_DASHES = "-–—―‒−"
_OUTLETS = (
    r"AP|AFP|Reuters|CNN|Bloomberg|EPA|UPI|Getty Images|Getty|Shutterstock|USA TODAY(?: NETWORK)?|"
    r"The Associated Press|Associated Press|File|Pool"
)

_ENDS_WITH_DASH = re.compile(rf"[{_DASHES}]$")
_DATELINE = re.compile(
    rf"^[A-Z][A-Z.'’/-]+(?: [A-Z][A-Z.'’/-]+)*(?:, {_NAME}(?: {_NAME})?)?(?: \((?:{_OUTLETS})\))?$"
)
_PHOTO_CREDIT = re.compile(rf"^{_NAME}(?: {_NAME}){{0,4}}(?:/{_NAME}(?: {_NAME}){{0,3}})+$")
_CREDIT_LABEL = re.compile(
    r"^\(?(?:Photos?|Photograph|Image|Credit|Illustration|Video|Graphic|Source|Contributing|Reporting|Editing"
    r"|Additional reporting)(?: by)?\s*[:|]|^\(?(?:Photos?|Photograph|Illustration|Reporting|Editing|Additional reporting)"
    rf" by {_NAME}"
)
_BYLINE = re.compile(
    rf"^By\s+{_NAME}(?:,?\s+(?:{_NAME}|and|&|of|the|\|))*[,.]?$"
)
_SIGN_OFF = re.compile(rf"^[{_DASHES}]+\s*(?:{_NAME}|[Bb]y)(?:\s+(?:{_NAME}|and|&|of|the))*\.?$")
_OUTLET_ALONE = re.compile(rf"^(?:[{_DASHES}]+\s*)?(?:{_OUTLETS})\.?$")
_IN_PARENTHESES = re.compile(r"^\([^()]{1,80}\)\.?$")
_LIST_MARKER = re.compile(r"^(?:\d{1,3}|[A-Za-z])[.)]\s|^[•·▪●◦*+]\s?|^#\d+\s")
_ZONE_LEFTOVER = re.compile(
    r"^(?:(?:Eastern|Central|Mountain|Pacific|Atlantic|local)(?: (?:Standard|Daylight))? time|All times (?:are )?\w+"
    r"|[ECMP][SD]?T)\.?$",
    re.I,
)
_SENTENCE_END = re.compile(r"[.!?][\"”’')\]]*$")
_LOWER = re.compile(r"[a-z]")
_DIGIT = re.compile(r"\d")
_DATA = re.compile(r"[,:;]")
_PROSE_END = re.compile(r"[a-z]{3,}[\"”’']?\.$")
_SMALL_WORDS = frozenset({"&", "of", "the", "and", "for", "in", "on", "at", "to", "a", "de", "la", "von", "van"})


def is_fragment(text: str) -> bool:
    """Whether the sentence ``text`` is a fragment that must never be offered as an answer.

    Fragments: a dateline alone ("CNN —", "SACRAMENTO, Calif."), a photo credit ("Jane Doe/Reuters",
    "Photo: AP", "(Getty Images)"), a byline or sign-off ("By Jane Doe", "– Jane Doe"), a list marker
    or heading alone ("1. Covid-19", "QUIZ TIME", "Sabrina Carpenter"), a time-zone leftover
    ("Eastern time.").
    """
    text = text.strip()
    if len(text) > MAX_FRAGMENT_CHARS:
        return False
    if _ENDS_WITH_DASH.search(text) and len(text) <= 60:  # "CNN —", "WASHINGTON (AP) —"
        return True
    if (
        _OUTLET_ALONE.match(text)
        or _ZONE_LEFTOVER.match(text)
        or _aside(text)
        or _PHOTO_CREDIT.match(text)
        or _CREDIT_LABEL.match(text)
        or _BYLINE.match(text)
        or _SIGN_OFF.match(text)
        or _DATELINE.match(text.rstrip("."))
    ):
        return True
    words = text.split()
    if text.endswith(":") and len(words) <= 10:  # a lead-in or heading: "American Music Awards nominees:"
        return True
    if not _LOWER.search(text) and len(words) <= 10:  # "QUIZ TIME", "ROCK HALL OF FAME ANNOUNCES INDUCTEES"
        return True
    if _SENTENCE_END.search(text):
        return False
    marker = _LIST_MARKER.match(text)
    if marker:  # "1. Covid-19", "9. Northern Ireland split on protocol"; not "19. Bobby Hull, 610 goals"
        rest = text[marker.end() :]
        return len(rest.split()) <= 6 and not _DATA.search(rest)
    # a short heading or a name alone ("Sabrina Carpenter", "Illinois:"): a few capitalised words,
    # no figures, no sentence punctuation
    return (
        len(words) <= 4
        and not _DATA.search(text.removesuffix(":"))
        and not _DIGIT.search(text)
        and all(w[:1].isupper() or w in _SMALL_WORDS for w in words)
    )


def _aside(text: str) -> bool:
    """A short aside in parentheses that is no sentence: "(Getty Images)", "(Feb. 9, 1997)"."""
    if not _IN_PARENTHESES.match(text):
        return False
    inner = text.rstrip(".")[1:-1].strip()
    return len(inner.split()) <= 6 and not inner.endswith(("!", "?")) and not _PROSE_END.search(inner)
