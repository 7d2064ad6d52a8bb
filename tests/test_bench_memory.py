"""The memory bench's arithmetic: the archive's first share, and the growth it reports between builds."""

from __future__ import annotations

from pathlib import Path

from bench.memory import first_articles, render


def test_first_articles_writes_that_share_of_the_lines(tmp_path: Path) -> None:
    archive = tmp_path / "archive.jsonl"
    archive.write_text("".join(f'{{"id": "{n}"}}\n' for n in range(10)), encoding="utf-8")
    assert first_articles(archive, 0.25, tmp_path / "quarter.jsonl") == 2
    assert (tmp_path / "quarter.jsonl").read_text(encoding="utf-8") == '{"id": "0"}\n{"id": "1"}\n'
    assert first_articles(archive, 1.0, tmp_path / "all.jsonl") == 10


def test_growth_is_reported_per_added_sentence_and_the_peak_checked() -> None:
    builds = [
        {"share": 0.25, "articles": 1000, "sentences": 100_000, "seconds": 100.0, "peak_rss_mb": 500.0},
        {"share": 1.0, "articles": 4000, "sentences": 300_000, "seconds": 400.0, "peak_rss_mb": 600.0},
    ]
    text = render({"builds": builds})
    assert "| 25% | 1,000 | 100,000 | 100.0 | 500 |" in text
    assert "- growth: +100 MB for 200,000 more sentences (524 bytes a sentence); peak 1.20x at 3.0x the sentences" in text
    assert "- peak RSS at 300,000 sentences: 600 MB <= 1536 met" in text
    builds[-1]["peak_rss_mb"] = 1600.0
    assert "1600 MB <= 1536 MISSED" in render({"builds": builds})
