"""Reading a ``QUESTIONS.jsonl`` file: one question per line, checked with ``file:line`` errors."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.errors import BadInputError

MAX_QUESTION_CHARS = 2000
"""Same limit as ``Assistant.ask``; checked up front so a bad line fails before any work."""


@dataclass(frozen=True, slots=True)
class Question:
    """One evaluation question with its gold data."""

    id: str
    question: str
    answers: tuple[str, ...]
    """Gold answer strings; empty when the corpus does not answer the question."""
    article_ids: tuple[str, ...]
    conversation: str | None = None
    """Conversation id: the turns of one conversation are asked in order, in one conversation."""
    turn: int | None = None
    line: int = 0

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


def load_questions(path: Path) -> list[Question]:
    """Every question in ``path``; raises BadInputError naming the file and line of a bad one."""
    try:
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as exc:
        raise BadInputError(f"{path}: not UTF-8 text (byte {exc.start})") from exc
    except OSError as exc:
        raise BadInputError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    questions: list[Question] = []
    ids: dict[str, int] = {}
    turns: dict[tuple[str, int], int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        question = _parse(line, where, number)
        if question.id in ids:
            raise BadInputError(f"{where}: duplicate id {question.id!r} (first on line {ids[question.id]})")
        ids[question.id] = number
        if question.conversation is not None:
            key = (question.conversation, question.turn or 0)
            if key in turns:
                raise BadInputError(
                    f"{where}: conversation {key[0]!r} has turn {key[1]} twice (also line {turns[key]})"
                )
            turns[key] = number
        questions.append(question)
    if not questions:
        raise BadInputError(f"{path}: no questions (expected one JSON object per line)")
    return questions


def _parse(line: str, where: str, number: int) -> Question:
    try:
        row = json.loads(line, parse_constant=_no_constant)
    except RecursionError as exc:
        raise BadInputError(f"{where}: nested too deeply") from exc
    except ValueError as exc:
        raise BadInputError(f"{where}: not valid JSON ({exc})") from exc
    if not isinstance(row, dict):
        raise BadInputError(f"{where}: expected a JSON object, got {type(row).__name__}")
    qid = row.get("id")
    if isinstance(qid, bool) or not isinstance(qid, str | int) or str(qid).strip() == "":
        raise BadInputError(f"{where}: 'id' must be a non-empty string")
    text = row.get("question")
    if not isinstance(text, str) or not text.strip():
        raise BadInputError(f"{where}: 'question' must be non-empty text")
    if len(text.strip()) > MAX_QUESTION_CHARS:
        raise BadInputError(f"{where}: the question is {len(text.strip()):,} characters; the limit is 2,000")
    answers = _strings(row, "answers", where, required=True)
    article_ids = _strings(row, "article_ids", where, required=False)
    conversation, turn = row.get("conversation"), row.get("turn")
    if conversation is not None:
        if isinstance(conversation, bool) or not isinstance(conversation, str | int) or str(conversation) == "":
            raise BadInputError(f"{where}: 'conversation' must be a non-empty string")
        if isinstance(turn, bool) or not isinstance(turn, int) or turn < 1:
            raise BadInputError(f"{where}: 'turn' must be a whole number >= 1 when 'conversation' is given")
        conversation = str(conversation)
    else:
        turn = None
    return Question(str(qid), text, answers, article_ids, conversation, turn, number)


def _strings(row: dict[str, Any], key: str, where: str, *, required: bool) -> tuple[str, ...]:
    value = row.get(key)
    if value is None and not required:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadInputError(f"{where}: {key!r} must be a list of strings")
    return tuple(value)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def asking_order(questions: list[Question]) -> list[list[int]]:
    """Groups of positions in ``questions``, each asked as a unit, in the order to ask them.

    A lone question is a group of one; a conversation's turns form one group sorted by turn,
    placed where its first line appears.
    """
    groups: list[list[int]] = []
    by_conversation: dict[str, list[int]] = {}
    for position, question in enumerate(questions):
        if question.conversation is None:
            groups.append([position])
        elif question.conversation in by_conversation:
            by_conversation[question.conversation].append(position)
        else:
            by_conversation[question.conversation] = [position]
            groups.append(by_conversation[question.conversation])
    for group in by_conversation.values():
        group.sort(key=lambda p: questions[p].turn or 0)
    return groups
