"""The library entry point: ``Assistant.open(dir).ask(question)`` and conversations."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index import location
from index.build import ProgressFn, UpdateReport, check_model
from index.embed.embedder import Embedder
from index.errors import QuestionError
from index.fragments import is_fragment
from index.storage import IndexView
from qa import copies, ranker
from qa.config import Settings
from qa.embedding import embedder_for
from qa.filters import ArticleFilter, DateLike
from qa.reader import Reader, ReaderInput, shipped_reader
from qa.retriever import FEATURES, Candidates, Retriever, question_type
from qa.types import Answer, ArticleRef, Sentence

MAX_QUESTION_CHARS = 2000
"""Longer questions are refused (a question, not a document)."""

FOLLOW_UP_BOOST = 0.2
"""In a follow-up, sentences of the article cited last move this share of the way to 1."""
REPEAT_PENALTY = 0.85
"""In a follow-up, the sentence given last time is scaled down by this factor."""


class Assistant:
    """Answers questions from one index with cited sentences. Safe to share between threads."""

    def __init__(
        self, data: IndexView, embedder: Embedder, settings: Settings | None = None, reader: Reader | None = None
    ) -> None:
        self.data = data
        self.embedder = embedder
        self.settings = settings or Settings()
        if reader is None and self.settings.reader and ranker.model().reader is not None:
            reader = shipped_reader()
        self.reader = reader if self.settings.reader else None
        self.retriever = Retriever(data, embedder)
        self._masks: dict[ArticleFilter, np.ndarray] = {}
        self._lock = threading.Lock()
        self.copies = copies.CopyFinder(data.articles)
        self._fragments: dict[int, bool] = {}

    # ------------------------------------------------------------ constructors

    @classmethod
    def open(
        cls, index_dir: str | Path | None = None, *, settings: Settings | None = None, embedder: Embedder | None = None
    ) -> Assistant:
        """Open an existing index (checksums verified); raises IndexNotFoundError if there is none."""
        settings = _settings(settings, index_dir)
        data = location.open_index(settings.index)
        embedder = embedder or embedder_for(settings)
        check_model(location.describe(settings.index), data.model, embedder)
        return cls(data, embedder, settings)

    @classmethod
    def build(
        cls,
        paths: Sequence[str | Path],
        *,
        index_dir: str | Path | None = None,
        settings: Settings | None = None,
        embedder: Embedder | None = None,
        progress: ProgressFn | None = None,
    ) -> Assistant:
        """Index ``paths`` (adding to any index already there) and open the result."""
        settings = _settings(settings, index_dir)
        embedder = embedder or embedder_for(settings)
        index(paths, settings=settings, embedder=embedder, progress=progress)
        return cls.open(settings=settings, embedder=embedder)

    # ------------------------------------------------------------ answering

    def ask(
        self,
        question: str,
        *,
        k: int | None = None,
        sources: Iterable[str] | None = None,
        since: DateLike = None,
        until: DateLike = None,
    ) -> Answer:
        """Answer one self-contained question with up to ``k`` ranked, cited sentences."""
        text = check_question(question)
        return self._answer(text, None, k, sources, since, until)

    def conversation(self) -> Conversation:
        """A new conversation: follow-up questions are read in the light of earlier turns."""
        return Conversation(self)

    def _answer(
        self,
        question: str,
        context: str | None,
        k: int | None,
        sources: Iterable[str] | None,
        since: DateLike,
        until: DateLike,
        previous: Answer | None = None,
    ) -> Answer:
        k = self.settings.top_k if k is None else k
        if not isinstance(k, int) or isinstance(k, bool) or k < 1:
            raise QuestionError(f"k must be a positive whole number, got {k!r}")
        allowed = self._allowed(sources, since, until)
        query = self.retriever.prepare(question, context)
        found = self.answerable(self.retriever.candidates(query, allowed))
        if len(found.rows) == 0:
            return Answer(question=question, answered=False, confidence=0.0, sentences=[])
        ranked = self.rank(question, found, previous)
        rows, scores = ranked.rows, ranked.scores
        weights = ranker.model().reader
        threshold = self.settings.min_confidence
        spans: dict[int, tuple[int, int]] = {}
        if self.reader is not None and weights is not None:
            read = self._read(question, context, ranked, weights)
            rows, scores, confidence, spans = rows[read.order], read.scores, read.confidence, read.spans
            answered = confidence >= (weights.threshold if threshold is None else threshold)
        else:
            confidence = ranker.confidence(ranked.evidence)
            default = ranker.model().answer_threshold
            answered = ranker.answerable(ranked.evidence) >= (default if threshold is None else threshold)
        picks = copies.collapse(self.data, rows, scores, k, self.copies)
        sentences = [self._sentence(pick.row, pick.score, pick.copies, spans.get(pick.row)) for pick in picks]
        return Answer(question=question, answered=answered, confidence=round(confidence, 4), sentences=sentences)

    def answerable(self, found: Candidates) -> Candidates:
        """``found`` without fragments (datelines, photo credits, bylines, headings): never answers.

        They stay in the index with their offsets (and as the reader's neighbouring context); the
        test runs once per sentence row and is cached.
        """
        known = self._fragments
        keep = np.ones(len(found.rows), dtype=bool)
        for i, row in enumerate(found.rows.tolist()):
            fragment = known.get(row)
            if fragment is None:
                fragment = is_fragment(self.data.sentence_text(row))
                if len(known) < 200_000:  # bounded like the retriever's caches
                    known[row] = fragment
            keep[i] = not fragment
        return found if keep.all() else Candidates(found.rows[keep], found.features[keep])

    def rank(self, question: str, found: Candidates, previous: Answer | None = None) -> Ranked:
        """The feature ranker's order of ``found``, its scores and the evidence for its first sentence."""
        logits = ranker.logits(found.features)
        scores = ranker.sentence_scores(logits)
        if previous is not None and previous.sentences:
            scores = self._follow_up_prior(found.rows, scores, previous)
        order = np.argsort(-scores, kind="stable")
        evidence = ranker.confidence_features(found.features[order], logits[order], question_type(question) is not None)
        best_cos = float(np.max(found.features[:, _COS]))
        return Ranked(found.rows[order], scores[order], evidence, best_cos)

    def _read(self, question: str, context: str | None, ranked: Ranked, weights: ranker.ReaderWeights) -> _Reading:
        """Let the reader read the ranker's best ``weights.depth`` distinct sentences and rerank them.

        Returns the new order (positions into ``ranked.rows``), the scores in that order, the
        confidence and the answer phrase of each read row (article offsets).
        """
        assert self.reader is not None
        data = self.data
        rows, scores, evidence = ranked.rows, ranked.scores, ranked.evidence
        read, twins = distinct_positions(data, rows, weights.depth)
        asked = question if context is None else f"{question} {context}"
        reading = self.reader.read([self.reader_input(asked, int(rows[p])) for p in read])
        combined = ranker.reader_sentence_logits(
            weights, reading.relevance, ranker.logit(scores[read]), reading.span_scores
        )
        value = dict(zip(read, combined.tolist(), strict=True))
        relevance = dict(zip(read, reading.relevance.tolist(), strict=True))
        sure = dict(zip(read, reading.span_scores.tolist(), strict=True))
        for position, twin in twins:
            value[position], relevance[position], sure[position] = value[twin], relevance[twin], sure[twin]
        head = sorted(value, key=lambda p: (-value[p], p))
        rest = np.arange(len(head), len(rows))  # read and twin positions are exactly the first len(head)
        top_scores = ranker.sigmoid(np.array([value[p] for p in head]))
        floor = float(top_scores.min()) if len(top_scores) else 1.0
        new_order = np.concatenate([np.array(head, np.int64), rest])
        new_scores = np.concatenate([top_scores, np.minimum(scores[rest], floor)])
        once = set(read)
        distinct = [p for p in head if p in once]  # as fitted: a copy is no second opinion
        features = ranker.reader_confidence_features(
            np.array([value[p] for p in distinct]),
            np.array([relevance[p] for p in distinct]),
            evidence,
            np.array([sure[p] for p in distinct]),
            ranked.best_cos,
        )
        spans: dict[int, tuple[int, int]] = {}
        for position, span in zip(read, reading.spans, strict=True):
            if span is not None:
                start = int(data.sentences[int(rows[position]), 1])
                spans[int(rows[position])] = (start + span[0], start + span[1])
        for position, twin in twins:
            twin_span = spans.get(int(rows[twin]))
            if twin_span is not None:
                shift = int(data.sentences[int(rows[position]), 1]) - int(data.sentences[int(rows[twin]), 1])
                spans[int(rows[position])] = (twin_span[0] + shift, twin_span[1] + shift)
        return _Reading(new_order, new_scores, ranker.reader_confidence(weights, features), spans)

    def reader_input(self, question: str, row: int) -> ReaderInput:
        """What the reader reads for sentence ``row``: it, its article's title and its neighbours."""
        data = self.data
        article_row = int(data.sentences[row, 0])

        def neighbour(other: int) -> str:
            if 0 <= other < len(data.sentences) and int(data.sentences[other, 0]) == article_row:
                return data.sentence_text(other)
            return ""

        return ReaderInput(
            question, data.sentence_text(row), data.articles[article_row].title, neighbour(row - 1), neighbour(row + 1)
        )

    def _follow_up_prior(self, rows: np.ndarray, scores: np.ndarray, previous: Answer) -> np.ndarray:
        """A follow-up is most likely about the article just cited, and asks for a new sentence."""
        top = previous.sentences[0]
        article_rows = [i for i, a in enumerate(self.data.articles) if a.id == top.article_id]
        same_article = np.isin(self.data.sentences[rows, 0], article_rows)
        same_sentence = same_article & (self.data.sentences[rows, 1] == top.start)
        boosted = np.where(same_article, scores + FOLLOW_UP_BOOST * (1.0 - scores), scores)
        return np.where(same_sentence, boosted * REPEAT_PENALTY, boosted)

    def _sentence(
        self, row: int, score: float, copies: Sequence[int] = (), span: tuple[int, int] | None = None
    ) -> Sentence:
        article_row, start, end = (int(v) for v in self.data.sentences[row, :3])
        article = self.data.articles[article_row]
        others = [self.data.articles[int(self.data.sentences[r, 0])] for r in copies]
        return Sentence(
            text=article.text[start:end],
            article_id=article.id,
            title=article.title,
            source=article.source,
            published=article.published,
            url=article.url,
            start=start,
            end=end,
            score=round(score, 4),
            also_in=[ArticleRef(article_id=a.id, source=a.source, published=a.published) for a in others] or None,
            span_start=span[0] if span else None,
            span_end=span[1] if span else None,
        )

    def _allowed(self, sources: Iterable[str] | None, since: DateLike, until: DateLike) -> np.ndarray | None:
        wanted = ArticleFilter.of(sources, since, until)
        if not wanted.active:
            return None
        with self._lock:
            mask = self._masks.get(wanted)
            if mask is None:
                mask = wanted.sentence_mask(self.data.articles, self.data.sentences)
                self._masks[wanted] = mask
        return mask


def distinct_positions(data: IndexView, rows: np.ndarray, depth: int) -> tuple[list[int], list[tuple[int, int]]]:
    """Positions in ``rows`` of the first ``depth`` distinct sentence texts, and ``(position, twin)``
    for each repeat of an earlier text met before the list is full (a syndicated copy)."""
    first_of: dict[str, int] = {}
    read: list[int] = []
    twins: list[tuple[int, int]] = []
    for position, row in enumerate(rows.tolist()):
        text = data.sentence_text(row)
        if text in first_of:
            twins.append((position, first_of[text]))
        elif len(read) < depth:
            first_of[text] = position
            read.append(position)
        else:
            break
    return read, twins


_COS = FEATURES.index("cos")


@dataclass(frozen=True, slots=True)
class Ranked:
    """Candidates in the feature ranker's order."""

    rows: np.ndarray
    scores: np.ndarray
    """Sentence scores in [0, 1], best first (follow-up prior included)."""
    evidence: np.ndarray
    """:data:`qa.ranker.CONFIDENCE_FEATURES` of the first sentence."""
    best_cos: float
    """The question's best cosine to any candidate."""


@dataclass(frozen=True, slots=True)
class _Reading:
    order: np.ndarray
    scores: np.ndarray
    confidence: float
    spans: dict[int, tuple[int, int]]


class Conversation:
    """Successive questions where later ones may lean on earlier ones ("Who ordered it?")."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self.turns: list[tuple[str, Answer]] = []

    def ask(
        self,
        question: str,
        *,
        k: int | None = None,
        sources: Iterable[str] | None = None,
        since: DateLike = None,
        until: DateLike = None,
    ) -> Answer:
        """Answer ``question`` in the context of the earlier turns."""
        text = check_question(question)
        context, previous = None, None
        if self.turns and is_follow_up(text):
            context, previous = self.turns[-1]
        answer = self.assistant._answer(text, context, k, sources, since, until, previous)
        # a follow-up's own context carries on, so "And how many remain?" still knows the topic
        self.turns.append((text if context is None else f"{text} {context}", answer))
        return answer

    def reset(self) -> None:
        """Forget the earlier turns."""
        self.turns.clear()

    def resume(self, question: str, answer: Answer) -> None:
        """Carry on from a turn asked earlier (a conversation reopened from saved history).

        Call it for each earlier turn in order: a follow-up keeps its topic as :meth:`ask` kept it.
        """
        text = question.strip()
        context = self.turns[-1][0] if self.turns and is_follow_up(text) else None
        self.turns.append((text if context is None else f"{text} {context}", answer))


_FOLLOW_UP = re.compile(
    r"\b(it|its|they|them|their|he|him|his|she|her|that|this|those|these|there|then|the same|one)\b"
    r"|^(and|but|so|also|what about|how about|why|when|where)\b",
    re.I,
)


def is_follow_up(question: str) -> bool:
    """Whether a question leans on earlier turns (pronouns, "and ...", very short questions)."""
    words = re.findall(r"\w+", question)
    return bool(_FOLLOW_UP.search(question)) or len(words) <= 3


def check_question(question: object) -> str:
    """Return the question stripped, or raise QuestionError saying what is wrong."""
    if not isinstance(question, str):
        raise QuestionError(f"the question must be text, got {type(question).__name__}")
    text = question.strip()
    if not text:
        raise QuestionError("the question is empty")
    if len(text) > MAX_QUESTION_CHARS:
        raise QuestionError(f"the question is {len(text):,} characters; the limit is {MAX_QUESTION_CHARS:,}")
    bad = _CONTROL.search(text)
    if bad:
        code = ord(bad.group())
        what = "a lone surrogate (not valid text)" if 0xD800 <= code <= 0xDFFF else "a control character"
        raise QuestionError(f"the question contains {what} U+{code:04X} at position {bad.start()}")
    return text


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
"""Refused in questions: C0 controls but tab and line breaks, DEL, C1, lone surrogates."""


def index(
    paths: Sequence[str | Path],
    *,
    settings: Settings | None = None,
    embedder: Embedder | None = None,
    progress: ProgressFn | None = None,
) -> UpdateReport:
    """Add or update articles in the configured index (``newsdesk index``)."""
    settings = settings or Settings()
    embedder = embedder or embedder_for(settings)
    return location.update(settings.index, paths, embedder, progress=progress)


def _settings(settings: Settings | None, index_dir: str | Path | None) -> Settings:
    settings = settings or Settings()
    if index_dir is not None:
        settings = settings.model_copy(update={"index": location.parse(index_dir)})
    return settings


__all__ = ["Assistant", "Conversation", "check_question", "index", "is_follow_up"]
