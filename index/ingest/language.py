"""Which language an article is written in (py3langid: an offline model, loaded without pickle).

The embedding model and the reader are English: an article in another language is still stored and
searchable, but marked, with a warning, and ``newsdesk list`` shows its language.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from typing import Any

from index.records import Article, Problem

SAMPLE_CHARS = 4000
"""How much of the title and text is read to tell the language."""
MIN_CHARS = 120
"""Shorter texts are not judged (too little to tell)."""
MIN_PROBABILITY = 0.9
"""Less sure than this, no language is recorded."""
ENGLISH = "en"


@lru_cache(maxsize=1)
def _identifier() -> Any:  # py3langid has no type hints
    """py3langid's model, read in memory (its own loader writes a temporary file, which a full disk refuses)."""
    import io
    import lzma
    from array import array

    import numpy as np
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    with lzma.open(MODEL_DIR / MODEL_FILE) as packed, np.load(io.BytesIO(packed.read()), allow_pickle=False) as data:
        def as_array(values: Any) -> array[int]:
            out = array({2: "H", 4: "I", 8: "L"}[values.dtype.itemsize])
            out.frombytes(np.ascontiguousarray(values).tobytes())
            return out

        return LanguageIdentifier(
            np.asarray(data["ptc"]), np.asarray(data["pc"]), data["classes"].tolist(), as_array(data["nextmove"]),
            data["out_feat"].tolist(), norm_probs=True, tk_row=as_array(data["nextmove_row"]),
        )


def detect(title: str, text: str) -> str | None:
    """The ISO 639-1 code of the language of ``title`` and ``text``, or None when it cannot be told.

    Never fails an index run: if the model cannot be read, the language is simply not recorded.
    """
    sample = (title + "\n" + text)[:SAMPLE_CHARS]
    if len(sample.strip()) < MIN_CHARS:
        return None
    try:
        code, probability = _identifier().classify(sample)
    except (OSError, ValueError, KeyError):
        return None
    return str(code) if probability >= MIN_PROBABILITY else None


_NAMES = {
    "ar": "Arabic", "bg": "Bulgarian", "cs": "Czech", "da": "Danish", "de": "German", "el": "Greek", "en": "English",
    "es": "Spanish", "fa": "Persian", "fi": "Finnish", "fr": "French", "he": "Hebrew", "hi": "Hindi",
    "hu": "Hungarian", "id": "Indonesian", "it": "Italian", "ja": "Japanese", "ko": "Korean", "nl": "Dutch",
    "no": "Norwegian", "pl": "Polish", "pt": "Portuguese", "ro": "Romanian", "ru": "Russian", "sv": "Swedish",
    "th": "Thai", "tr": "Turkish", "uk": "Ukrainian", "vi": "Vietnamese", "zh": "Chinese",
}


def language_name(code: str) -> str:
    """``German`` for ``de``; the code itself when it is not a common one."""
    return _NAMES.get(code, code)


def with_language(article: Article, problems: list[Problem]) -> Article:
    """``article`` marked with its language; a warning in ``problems`` when it is not English (the model is)."""
    language = detect(article.title, article.text)
    if language is not None and language != ENGLISH:
        problems.append(
            Problem(
                article.origin,
                f"written in {language_name(language)} ({language}), not English: stored and searchable, but "
                "the model is English, so answers from it may be poor",
                skipped=False,
            )
        )
    return replace(article, language=language) if language != article.language else article
