"""Load: 200 fixed questions from 1, 4 and 16 threads against one Assistant give no errors and
exactly the serial answers. (Latency per thread count is measured by the benchmark, not here.)
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import CORPUS, ROOT, FakeEmbedder

from index.build import update_index
from qa import Assistant

QUESTIONS_FILE = ROOT / "eval" / "questions.jsonl"


@pytest.fixture(scope="module")
def corpus_assistant_fake(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    index_dir = tmp_path_factory.mktemp("load") / "index"
    update_index(index_dir, [CORPUS], FakeEmbedder())
    return Assistant.open(index_dir, embedder=FakeEmbedder())


@pytest.fixture(scope="module")
def questions() -> list[str]:
    if not QUESTIONS_FILE.is_file():
        pytest.skip(f"{QUESTIONS_FILE} is missing")
    rows = [json.loads(line) for line in QUESTIONS_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]
    texts = [row["question"] for row in rows]
    return (texts * (200 // len(texts) + 1))[:200]


def _ask(assistant: Assistant, question: str) -> str:
    return assistant.ask(question, k=5).model_dump_json()


def test_serial_and_threaded_answers_are_identical(corpus_assistant_fake: Assistant, questions: list[str]) -> None:
    assert len(questions) == 200
    serial = [_ask(corpus_assistant_fake, q) for q in questions]  # the 1-thread run
    assert sum(json.loads(a)["sentences"] != [] for a in serial) > 150
    for threads in (4, 16):
        with ThreadPoolExecutor(max_workers=threads) as pool:
            futures = [pool.submit(_ask, corpus_assistant_fake, q) for q in questions]
            results = [f.result() for f in futures]  # re-raises any error from a thread
        assert results == serial, f"{threads} threads"


def test_conversations_in_parallel_do_not_mix(corpus_assistant_fake: Assistant, questions: list[str]) -> None:
    pairs = list(zip(questions[:40:2], questions[1:40:2], strict=True))

    def talk(pair: tuple[str, str]) -> list[str]:
        chat = corpus_assistant_fake.conversation()
        return [chat.ask(q, k=3).model_dump_json() for q in pair]

    serial = [talk(p) for p in pairs]
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(talk, pairs)) == serial
