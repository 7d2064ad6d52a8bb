"""``newsdesk eval``: answer a question set, score it, and optionally compare with plain baselines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from newsdesk.options import filter_options, index_option, open_or_build, settings_for, stderr


@click.command("eval")
@click.argument("questions_file", metavar="QUESTIONS.jsonl", type=click.Path(dir_okay=False, path_type=Path))
@index_option
@click.option(
    "--predictions", type=click.Path(dir_okay=False, path_type=Path), help="Write one JSON line per question."
)
@click.option(
    "--report", type=click.Path(dir_okay=False, path_type=Path), help="Write a Markdown report (and PNG charts)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as one JSON object.")
@click.option("--compare", is_flag=True, help="Also run BM25, dense and RRF baselines; one table side by side.")
@filter_options
def eval_command(
    questions_file: Path,
    index_dir: str | None,
    predictions: Path | None,
    report: Path | None,
    as_json: bool,
    compare: bool,
    sources: tuple[str, ...],
    since: str | None,
    until: str | None,
) -> None:
    """Answer every question in QUESTIONS.jsonl (k = 10) and print the metrics."""
    from eval.questions import load_questions

    questions = load_questions(questions_file)  # fail fast, before any model or index is loaded
    filters = _filters(sources, since, until)
    for path in (predictions, report):
        _check_writable(path)  # before a long run, not after it
    settings = settings_for(index_dir)
    assistant = open_or_build(settings)
    results, metrics = _evaluate(assistant, questions, filters, compare)
    if predictions is not None:
        from eval.run import write_predictions

        write_predictions(predictions, questions, results[-1])
        stderr(f"predictions: {predictions}")
    if report is not None:
        from eval.report import write_report

        written = write_report(
            report,
            questions_file=questions_file,
            index_dir=settings.index,
            questions=questions,
            results=results,
            metrics=metrics,
        )
        stderr("report: " + ", ".join(str(p) for p in written))
    if as_json:
        out = dict(metrics[-1])
        if compare:
            out["baselines"] = {r.name: m for r, m in zip(results[:-1], metrics[:-1], strict=True)}
        click.echo(json.dumps(out))
    else:
        from eval.report import side_by_side, text_table

        click.echo(text_table(side_by_side(results, metrics)))


def _check_writable(path: Path | None) -> None:
    from index.errors import BadInputError

    if path is None:
        return
    existed = path.exists()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise BadInputError(f"cannot write {path}: {exc.strerror or exc}") from exc
    if not existed:
        path.unlink()


def _filters(sources: tuple[str, ...], since: str | None, until: str | None) -> dict[str, Any]:
    from qa import ArticleFilter

    ArticleFilter.of(sources, since, until)  # a bad date: a one-line error before any work
    return {"sources": sources, "since": since, "until": until}


def _evaluate(
    assistant: Any, questions: list[Any], filters: dict[str, Any], compare: bool
) -> tuple[list[Any], list[Any]]:
    """Results and metrics, baselines first and the full system last."""
    from eval.run import Bar, QuestionVectors, answer_all, baseline_result, metrics_object
    from qa import Assistant

    bar = Bar(len({q.question.strip() for q in questions}), "encoding questions")
    vectors = QuestionVectors(assistant.embedder, [q.question for q in questions], progress=bar)
    bar.close()
    batched = Assistant(assistant.data, vectors, assistant.settings, reader=assistant.reader)
    results = []
    if compare:
        from eval.baselines import Baselines, sentence_mask

        mask = sentence_mask(assistant.data, filters["sources"], filters["since"], filters["until"])
        baselines = Baselines(assistant.data, vectors.embed)
        texts = [q.question.strip() for q in questions]
        runs = baselines.run_all(texts, mask=mask, encode_seconds=vectors.seconds, progress=stderr)
        stderr(
            f"baselines: BM25 index built in {baselines.build_seconds:.1f} s; "
            + ", ".join(f"{r.label} {r.seconds:.1f} s" for r in runs)
        )
        results += [
            baseline_result(r.name, r.label, assistant.data, questions, r.rankings, r.seconds, r.best_scores)
            for r in runs
        ]
    bar = Bar(len(questions), "answering")
    results.append(answer_all(batched, questions, filters=filters, progress=bar.advance))
    bar.close()
    return results, [metrics_object(r, questions) for r in results]
