"""The naive reference: pysbd on every article, sentence-transformers fp32 on every sentence (batch 64).

Run as ``python -m bench.naive PATH...``; prints the sentence count. Model load is included in the
process time the bench measures.
"""

from __future__ import annotations

import sys


def main(paths: list[str]) -> int:
    import pysbd
    from sentence_transformers import SentenceTransformer

    from index.embed.model_files import default_model_dir, go_offline
    from index.ingest.articles import load_paths

    go_offline()
    articles = load_paths(paths).articles
    segmenter = pysbd.Segmenter(language="en", clean=False)
    sentences = [s.strip() for a in articles for s in segmenter.segment(a.text) if s.strip()]
    model = SentenceTransformer(str(default_model_dir()), device="cpu", local_files_only=True)
    vectors = model.encode(sentences, batch_size=64, normalize_embeddings=True, show_progress_bar=False)
    print(f"{len(articles)} articles, {len(sentences)} sentences, vectors {vectors.shape}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
