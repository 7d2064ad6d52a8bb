"""The reader: a small transformer that reads the question against each candidate sentence.

It is the first layers of all-MiniLM-L6-v2, fine-tuned here (``python -m eval.reader_train``,
model card in ``qa/models/MODEL_CARD.md``) with two heads:

- a *relevance* logit: does this sentence, read with its title and neighbours, answer the question?
- *start/end* logits over the sentence's tokens: the answer phrase inside it.

It runs on onnxruntime (int8), so answering never imports torch. The model file's sha256 is
checked when it is loaded; a missing or damaged file raises :class:`ModelError` naming it.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from index.embed.model_files import default_model_dir
from index.embed.onnx_backend import usable_cores
from index.errors import ModelError

MODEL_FOLDER = Path(__file__).with_name("models")
"""Where the shipped reader lives (``reader.json`` and the ONNX file it names)."""
MAX_TOKENS = 96
"""Longest input: question, sentence and context together, special tokens included."""
MAX_QUESTION_TOKENS = 40
MAX_SPAN_TOKENS = 24
"""Longest answer phrase considered, in tokens."""


@dataclass(frozen=True, slots=True)
class ReaderInput:
    """One question and one candidate sentence with its context."""

    question: str
    sentence: str
    title: str = ""
    previous: str = ""
    next: str = ""


@dataclass(frozen=True, slots=True)
class Encoded:
    """Token ids of one reader input and where the sentence sits among them."""

    ids: list[int]
    type_ids: list[int]
    sentence_tokens: tuple[int, int]
    """Token positions ``[first, stop)`` of the sentence."""
    offsets: list[tuple[int, int]]
    """Character offsets in the sentence of each sentence token."""
    span_tokens: tuple[int, int] | None = None
    """Gold answer as (start token, end token), inclusive, for training."""


def load_tokenizer(model_dir: Path | None = None) -> Any:
    """The all-MiniLM-L6-v2 word-piece tokenizer, without padding or truncation."""
    from tokenizers import Tokenizer

    path = (model_dir or default_model_dir()) / "tokenizer.json"
    try:
        tokenizer = Tokenizer.from_file(str(path))
    except Exception as exc:  # noqa: BLE001 - one line for the user
        raise ModelError(f"{path}: unreadable tokenizer ({exc})") from exc
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def _context(item: ReaderInput) -> str:
    return " [SEP] ".join(part for part in (item.title, f"{item.previous} {item.next}".strip()) if part)


def encode(tokenizer: Any, item: ReaderInput, span: Sequence[int] | None = None) -> Encoded:
    """``[CLS] question [SEP] sentence [SEP] title [SEP] previous next [SEP]``, truncated to fit.

    The context is cut first, then the sentence's tail; ``span`` (character offsets in the
    sentence) becomes token positions when the phrase survives the cut.
    """
    q, s, c = tokenizer.encode_batch([item.question, item.sentence, _context(item)], add_special_tokens=False)
    return _assemble(tokenizer, q, s, c, span)


def encode_many(tokenizer: Any, items: Sequence[ReaderInput]) -> list[Encoded]:
    """:func:`encode` for many inputs in one tokenizer call."""
    texts = [text for item in items for text in (item.question, item.sentence, _context(item))]
    parts = tokenizer.encode_batch(texts, add_special_tokens=False)
    return [_assemble(tokenizer, *parts[3 * i : 3 * i + 3]) for i in range(len(items))]


def _assemble(tokenizer: Any, q: Any, s: Any, c: Any, span: Sequence[int] | None = None) -> Encoded:
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    question = q.ids[:MAX_QUESTION_TOKENS]
    room = MAX_TOKENS - len(question) - 3
    sentence_ids, offsets = s.ids[:room], s.offsets[:room]
    context = c.ids[: max(0, room - len(sentence_ids) - 1)]
    ids = [cls, *question, sep, *sentence_ids, sep]
    if context:
        ids += [*context, sep]
    first = len(question) + 2
    span_tokens = None
    if span is not None and offsets:
        begin = [i for i, (a, b) in enumerate(offsets) if a <= span[0] < b or (i == 0 and span[0] < a)]
        finish = [i for i, (a, b) in enumerate(offsets) if a < span[1] <= b]
        if begin and finish and begin[0] <= finish[-1]:
            span_tokens = (first + begin[0], first + finish[-1])
    return Encoded(
        ids=ids,
        type_ids=[0] * first + [1] * (len(ids) - first),
        sentence_tokens=(first, first + len(sentence_ids)),
        offsets=[(int(a), int(b)) for a, b in offsets],
        span_tokens=span_tokens,
    )


@dataclass(frozen=True, slots=True)
class Reading:
    """What the reader found in each sentence."""

    relevance: np.ndarray
    """Relevance logit per sentence (higher: more likely to answer the question)."""
    spans: list[tuple[int, int] | None]
    """Answer phrase per sentence as ``(start, end)`` character offsets into the sentence."""
    span_scores: np.ndarray
    """Start plus end logit of each sentence's phrase (how sure the reader is of it)."""


class Reader:
    """The shipped reader on onnxruntime. Safe to share between threads."""

    def __init__(self, folder: Path | None = None, *, threads: int = 0) -> None:
        folder = folder or MODEL_FOLDER
        meta_path = folder / "reader.json"
        try:
            self.meta: dict[str, Any] = json.loads(meta_path.read_text(encoding="utf-8"))
            path = folder / str(self.meta["file"])
            blob = path.read_bytes()
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"the reader model in {folder} is missing or unreadable ({exc}); reinstall newsdesk") from exc
        digest = hashlib.sha256(blob).hexdigest()
        if digest != self.meta.get("sha256"):
            raise ModelError(f"{path}: checksum mismatch (sha256 {digest[:12]}..., expected "
                             f"{str(self.meta.get('sha256'))[:12]}...); the file is damaged: reinstall newsdesk")
        self.tokenizer = load_tokenizer()
        self._lock = threading.Lock()
        self.threads = threads or usable_cores()
        # each input runs alone, on one thread, side by side with the others: no padding, and a
        # sentence's reading does not depend on what else is read with it (the int8 activations are
        # scaled per call) nor on how many cores there are. One session may run concurrently.
        self._session = _session(blob, path)
        self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="newsdesk-reader") if self.threads > 1 else None

    def read(self, items: Sequence[ReaderInput]) -> Reading:
        """Relevance and answer phrase for each input, each read on its own."""
        if not items:
            return Reading(np.zeros(0, np.float32), [], np.zeros(0, np.float32))
        with self._lock:  # the tokenizer object is shared
            encoded = encode_many(self.tokenizer, items)
        if self._pool is None or len(encoded) == 1:
            results = [self._run(e) for e in encoded]
        else:
            results = list(self._pool.map(self._run, encoded))
        best = [b for _, b in results]
        return Reading(
            np.array([r for r, _ in results], np.float32),
            [b[0] if b else None for b in best],
            np.array([b[1] if b else -20.0 for b in best], np.float32),
        )

    def _run(self, e: Encoded) -> tuple[float, tuple[tuple[int, int], float] | None]:
        """One input through the model: its relevance logit and best phrase."""
        ids = np.array([e.ids], np.int64)
        types = np.array([e.type_ids], np.int64)
        relevance, starts, ends = self._session.run(
            None, {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": types}
        )
        return float(np.asarray(relevance).reshape(-1)[0]), _best_span(e, starts[0], ends[0])


@lru_cache(maxsize=1)
def shipped_reader() -> Reader:
    """The reader in ``qa/models``, loaded once per process."""
    return Reader()


_ALLOWED_SPANS = np.triu(np.ones((MAX_TOKENS, MAX_TOKENS), bool)) & ~np.triu(
    np.ones((MAX_TOKENS, MAX_TOKENS), bool), MAX_SPAN_TOKENS
)
"""``[i, j]``: a phrase may run from token i to token j (j >= i, at most MAX_SPAN_TOKENS long)."""


def _best_span(e: Encoded, start: np.ndarray, end: np.ndarray) -> tuple[tuple[int, int], float] | None:
    """The highest-scoring phrase of at most :data:`MAX_SPAN_TOKENS` tokens inside the sentence,
    as character offsets into the sentence, and its score (start plus end logit)."""
    first, stop = e.sentence_tokens
    if stop <= first:
        return None
    s, t = start[first:stop], end[first:stop]
    n = len(s)
    score = np.where(_ALLOWED_SPANS[:n, :n], s[:, None] + t[None, :], -np.inf)
    i, j = np.unravel_index(int(np.argmax(score)), score.shape)
    return (e.offsets[i][0], e.offsets[j][1]), float(score[i, j])


def _session(blob: bytes, path: Path) -> Any:
    """A one-thread session: :class:`Reader` runs its inputs side by side on it."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return ort.InferenceSession(blob, options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # noqa: BLE001
        raise ModelError(f"cannot load the reader model {path}: {exc}; reinstall newsdesk") from exc
