"""``newsdesk eval`` end to end over the tiny corpus (fake embedder), plus one real-model run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eval.baselines import Baselines, sentence_mask
from eval.metrics import INTERFACE_KEYS, Outcome, compute
from eval.questions import load_questions
from eval.run import answer_all, metrics_object
from index import store
from newsdesk import cli

QUESTIONS = Path(__file__).resolve().parent / "data" / "eval-questions.jsonl"
SENTENCE_KEYS = {"text", "article_id", "title", "source", "published", "url", "start", "end", "score"}


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_eval_writes_predictions_report_and_metrics(fake_cli, tiny_index: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    predictions, report = tmp_path / "out" / "pred.jsonl", tmp_path / "out" / "report.md"
    argv = ["eval", str(QUESTIONS), "--index", str(tiny_index), "--predictions", str(predictions)]
    assert fake_cli([*argv, "--report", str(report), "--json", "--compare"]) == 0
    captured = capsys.readouterr()
    metrics = json.loads(captured.out)
    assert "answering: 9/9" in captured.err  # progress on stderr, not stdout

    assert set(INTERFACE_KEYS) <= set(metrics)
    assert metrics["questions"] == 9 and metrics["unanswerable"] == 1
    assert metrics["first_turns"]["questions"] == 1 and metrics["follow_ups"]["questions"] == 2
    assert set(metrics["baselines"]) == {"bm25", "dense", "rrf"}
    for baseline in metrics["baselines"].values():
        assert set(INTERFACE_KEYS) <= set(baseline)
        assert baseline["answered"] == 1.0 and baseline["abstain_ok"] == 0.0  # baselines never abstain
    assert metrics["baselines"]["bm25"]["hit@5"] >= 0.5  # the tiny questions share words with their answers

    rows = _lines(predictions)
    assert [r["id"] for r in rows] == [q.id for q in load_questions(QUESTIONS)]  # input order, one per question
    data = store.load(tiny_index)
    texts = {a.id: a.text for a in data.articles}
    for row in rows:
        assert {"id", "question", "answered", "confidence", "sentences"} <= set(row)
        assert isinstance(row["answered"], bool) and 0.0 <= row["confidence"] <= 1.0
        assert 1 <= len(row["sentences"]) <= 10
        for sentence in row["sentences"]:
            assert SENTENCE_KEYS <= set(sentence)
            assert texts[sentence["article_id"]][sentence["start"] : sentence["end"]] == sentence["text"]

    # the printed metrics are what the predictions file says
    gold = {q.id: q for q in load_questions(QUESTIONS)}
    outcomes = [
        Outcome(
            gold[r["id"]].answers,
            gold[r["id"]].article_ids,
            tuple(s["text"] for s in r["sentences"]),
            tuple(s["article_id"] for s in r["sentences"]),
            r["answered"],
            r["confidence"],
            r["latency_ms"],
        )
        for r in rows
    ]
    assert compute(outcomes) == {k: metrics[k] for k in compute(outcomes)}

    text = report.read_text(encoding="utf-8")
    assert "| metric | BM25 \\* | dense \\* | BM25+dense RRF \\* | newsdesk |" in text
    assert "| hit@1 |" in text and "latency_ms_p95" in text and "never abstains" in text
    assert "## The 20 worst misses" in text and "## Reliability" in text
    assert "A plain threshold on the best dense cosine" in text  # the set has an unanswerable question
    for chart in ("report-coverage.png", "report-reliability.png"):
        assert f"]({chart})" in text
        assert (report.parent / chart).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_eval_prints_a_readable_table(fake_cli, tiny_index: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert fake_cli(["eval", str(QUESTIONS), "--index", str(tiny_index)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["metric", "newsdesk"]
    assert any(line.startswith("hit@1 ") for line in out) and any(line.startswith("abstain_ok") for line in out)
    assert any(line.startswith("hit@1 (follow-ups, n=2)") for line in out)


def test_eval_source_filter_applies_to_every_system(fake_cli, tiny_index: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    predictions = tmp_path / "pred.jsonl"
    argv = ["eval", str(QUESTIONS), "--index", str(tiny_index), "--source", "capital wire", "--compare"]
    assert fake_cli([*argv, "--predictions", str(predictions), "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert {s["article_id"] for r in _lines(predictions) for s in r["sentences"]} == {"farm-tariffs"}
    for name in ("bm25", "dense", "rrf"):  # only t4 (farm-tariffs) can find its article
        assert metrics["baselines"][name]["article@5"] == pytest.approx(1 / 8, abs=1e-4)


def test_report_cells_escape_untrusted_text(fake_cli, tiny_index: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    questions = tmp_path / "q.jsonl"
    row = {"id": "x|1", "question": "Who built the <b>stadium</b> | [bold]roof[/]?\nReally?", "answers": ["nobody"]}
    questions.write_text(json.dumps(row) + "\n", encoding="utf-8")
    report = tmp_path / "r.md"
    assert fake_cli(["eval", str(questions), "--index", str(tiny_index), "--report", str(report)]) == 0
    miss = next(line for line in report.read_text(encoding="utf-8").splitlines() if line.startswith("| x"))
    assert miss.startswith("| x\\|1 | Who built the &lt;b&gt;stadium&lt;/b&gt; \\| [bold]roof[/]? Really? |")


@pytest.mark.parametrize(
    ("content", "extra", "message"),
    [
        (None, [], "cannot read"),
        ('{"id": "a", "question": "Q?", "answers": []}\n{"id": "a"\n', [], "q.jsonl:2: not valid JSON"),
        ('{"id": "a", "question": "Q?", "answers": []}\n', ["--since", "yesterday-ish"], "--since 'yesterday-ish'"),
    ],
)
def test_eval_bad_input_exits_2_with_one_line(tmp_path: Path, capsys, content, extra, message) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "q.jsonl"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    assert cli.main(["eval", str(path), "--index", str(tmp_path / "none"), *extra]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err


def test_eval_checks_output_paths_before_answering(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    argv = ["eval", str(QUESTIONS), "--index", str(tmp_path / "none"), "--report", str(blocker / "r.md")]
    assert cli.main(argv) == 2  # fails on the path, not on the missing index
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"cannot write {blocker / 'r.md'}" in err


class _Recorder:
    """Stands in for ``qa.Assistant``: records which object was asked what, in which order."""

    def __init__(self, assistant: Any) -> None:
        self.inner, self.calls, self.embedder = assistant, [], assistant.embedder
        self.conversations = 0

    def ask(self, question: str, **kwargs: Any) -> Any:
        self.calls.append(("ask", question, kwargs["k"]))
        return self.inner.ask(question, **kwargs)

    def conversation(self) -> Any:
        self.conversations += 1
        chat, number, calls = self.inner.conversation(), self.conversations, self.calls

        class Chat:
            def ask(self, question: str, **kwargs: Any) -> Any:
                calls.append((f"chat{number}", question, kwargs["k"]))
                return chat.ask(question, **kwargs)

        return Chat()


def test_conversations_are_asked_in_turn_order_through_one_conversation(tiny_assistant) -> None:  # type: ignore[no-untyped-def]
    questions = load_questions(QUESTIONS)
    recorder = _Recorder(tiny_assistant)
    result = answer_all(recorder, questions)
    assert recorder.conversations == 1
    assert [c[0] for c in recorder.calls] == ["ask"] * 6 + ["chat1"] * 3
    assert [c[1] for c in recorder.calls[6:]] == [
        "How late will the county libraries stay open on Saturdays?",
        "How much will it cost?",
        "And when do the new hours start?",
    ]
    assert {c[2] for c in recorder.calls} == {10}
    assert len(result.outcomes) == len(questions) and all(o.latency_ms > 0 for o in result.outcomes)


def test_baselines_respect_the_filter_mask(tiny_assistant) -> None:  # type: ignore[no-untyped-def]
    data = tiny_assistant.data
    mask = sentence_mask(data, ["Valley Courier"])
    assert mask is not None and 0 < mask.sum() < len(mask)
    baselines = Baselines(data, tiny_assistant.embedder.embed)
    for ranking in (
        baselines.bm25(["library hours cost"], 10, mask),
        baselines.dense(["library hours cost"], 10, mask),
    ):
        assert len(ranking[0]) > 0 and bool(np.all(mask[ranking[0]]))
    assert sentence_mask(data) is None
    assert not sentence_mask(data, since="2030-01-01").any()


def test_real_model_eval_on_corpus(corpus_assistant, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The seed facts with the bundled model: the right sentence comes first, offsets exact."""
    path = tmp_path / "q.jsonl"
    rows = [
        {
            "id": "s1",
            "question": "How many troops were withdrawn from Los Angeles?",
            "answers": ["2,000"],
            "conversation": "seed",
            "turn": 1,
        },
        {"id": "s2", "question": "And how many remain?", "answers": ["2,700"], "conversation": "seed", "turn": 2},
        {"id": "s3", "question": "Who is the chief spokesman for the Pentagon?", "answers": ["Sean Parnell"]},
        {"id": "s4", "question": "What is the recipe for a traditional Neapolitan pizza dough?", "answers": []},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    questions = load_questions(path)
    result = answer_all(corpus_assistant, questions)
    metrics = metrics_object(result, questions)
    assert metrics["hit@1"] == 1.0 and metrics["abstain_ok"] == 1.0
    texts = {a.id: a.text for a in corpus_assistant.data.articles}
    for answer in result.answers:
        assert all(texts[s.article_id][s.start : s.end] == s.text for s in answer.sentences)
