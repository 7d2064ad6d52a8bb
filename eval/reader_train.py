"""Train the reader and ship it: ``python -m eval.reader_train TRAIN.jsonl [--groups N]``.

The reader is the first ``--layers`` layers of all-MiniLM-L6-v2 (the bundled embedding model)
with two heads, fine-tuned here on CPU:

- *relevance*: a logit from the ``[CLS]`` state: does this sentence answer the question?
  Loss: binary cross-entropy on every pair, plus a softmax over each question's sentences
  (the right one should come first);
- *span*: start and end logits over the sentence's tokens (the answer phrase); cross-entropy on
  positive sentences whose answer offsets are known.

Input: ``[CLS] question [SEP] sentence [SEP] title [SEP] previous next [SEP]``, at most
:data:`qa.reader.MAX_TOKENS` tokens, the context truncated first (see :func:`qa.reader.encode`).
The result is exported to ONNX, quantised to int8 and written with its metadata to
``qa/models/`` (:mod:`qa.reader` checks its sha256 at load). Fixed seed; ``eval.reader_data``
writes TRAIN.jsonl.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from index.embed.model_files import default_model_dir
from qa.reader import MAX_TOKENS, ReaderInput, encode, load_tokenizer

SEED = 13


def _batches(groups: list[dict[str, Any]], tokenizer: Any, groups_per_batch: int, rng: random.Random) -> list[list[Any]]:
    """Groups encoded and batched by like length (less padding), batch order shuffled."""
    encoded = []
    for g in groups:
        items = [
            encode(tokenizer, ReaderInput(g["question"], e["sentence"], e["title"], e["prev"], e["next"]), e.get("span"))
            for e in g["examples"]
        ]
        rel = [e["rel"] for e in g["examples"]]
        encoded.append((items, rel))
    batches: list[list[Any]] = []
    window = groups_per_batch * 50
    for start in range(0, len(encoded), window):
        chunk = sorted(encoded[start : start + window], key=lambda g: max(len(i.ids) for i in g[0]))
        batches += [chunk[i : i + groups_per_batch] for i in range(0, len(chunk), groups_per_batch)]
    rng.shuffle(batches)
    return batches


def _tensors(batch: list[Any]) -> dict[str, Any]:
    import torch

    items = [item for group, _ in batch for item in group]
    width = max(len(i.ids) for i in items)
    n = len(items)
    ids = np.zeros((n, width), np.int64)
    mask = np.zeros((n, width), np.int64)
    types = np.zeros((n, width), np.int64)
    sentence = np.zeros((n, width), bool)
    starts = np.full(n, -100, np.int64)
    ends = np.full(n, -100, np.int64)
    for r, item in enumerate(items):
        k = len(item.ids)
        ids[r, :k], mask[r, :k], types[r, :k] = item.ids, 1, item.type_ids
        sentence[r, item.sentence_tokens[0] : item.sentence_tokens[1]] = True
        if item.span_tokens is not None:
            starts[r], ends[r] = item.span_tokens
    rel = np.array([v for _, rels in batch for v in rels], np.float32)
    group_of = np.repeat(np.arange(len(batch)), [len(g) for g, _ in batch])
    return {
        "ids": torch.from_numpy(ids),
        "mask": torch.from_numpy(mask),
        "types": torch.from_numpy(types),
        "sentence": torch.from_numpy(sentence),
        "starts": torch.from_numpy(starts),
        "ends": torch.from_numpy(ends),
        "rel": torch.from_numpy(rel),
        "group": torch.from_numpy(group_of),
    }


def build_model(layers: int) -> Any:
    import torch
    from transformers import AutoModel

    class Reader(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            bert = AutoModel.from_pretrained(str(default_model_dir()), local_files_only=True, use_safetensors=True)
            bert.encoder.layer = bert.encoder.layer[:layers]
            bert.config.num_hidden_layers = layers
            self.bert = bert
            hidden = bert.config.hidden_size
            self.rel = torch.nn.Linear(hidden, 1)
            self.span = torch.nn.Linear(hidden, 2)

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> tuple[Any, Any, Any]:
            states = self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            spans = self.span(states)
            return self.rel(states[:, 0]).squeeze(-1), spans[..., 0], spans[..., 1]

    return Reader()


def _loss(model: Any, t: dict[str, Any]) -> Any:
    import torch
    import torch.nn.functional as F

    rel, start, end = model(t["ids"], t["mask"], t["types"])
    loss = F.binary_cross_entropy_with_logits(rel, t["rel"])
    # listwise: each question's sentences compete; only groups with a right sentence count
    listwise = []
    for g in torch.unique(t["group"]):
        members = t["group"] == g
        target = t["rel"][members]
        if target.sum() > 0:
            log_p = torch.log_softmax(rel[members], dim=0)
            listwise.append(-(log_p * target).sum() / target.sum())
    if listwise:
        loss = loss + 0.5 * torch.stack(listwise).mean()
    has_span = t["starts"] >= 0
    if has_span.any():
        blocked = ~t["sentence"][has_span]
        s = start[has_span].masked_fill(blocked, -1e4)
        e = end[has_span].masked_fill(blocked, -1e4)
        loss = loss + 0.5 * (F.cross_entropy(s, t["starts"][has_span]) + F.cross_entropy(e, t["ends"][has_span]))
    return loss


def export(model: Any, out_dir: Path, meta: dict[str, Any]) -> Path:
    """ONNX export, dynamic int8 quantisation, sha256 and metadata into ``out_dir``."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out_dir.mkdir(parents=True, exist_ok=True)
    fp32 = out_dir / "reader-fp32.tmp.onnx"
    sample = torch.ones((2, 8), dtype=torch.int64)
    axes = {0: "batch", 1: "tokens"}
    model.eval()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (sample, sample, torch.zeros_like(sample)),
            str(fp32),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["relevance", "start_logits", "end_logits"],
            dynamic_axes={
                "input_ids": axes,
                "attention_mask": axes,
                "token_type_ids": axes,
                "relevance": {0: "batch"},
                "start_logits": axes,
                "end_logits": axes,
            },
            opset_version=17,
            do_constant_folding=True,
            dynamo=False,
        )
    target = out_dir / "reader-int8.onnx"
    quantize_dynamic(str(fp32), str(target), per_channel=True, weight_type=QuantType.QInt8)
    fp32.unlink()
    meta = {**meta, "file": target.name, "sha256": hashlib.sha256(target.read_bytes()).hexdigest(),
            "bytes": target.stat().st_size}
    (out_dir / "reader.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.reader_train", description=__doc__.splitlines()[0])
    parser.add_argument("train", type=Path, help="train.jsonl from python -m eval.reader_data")
    parser.add_argument("--groups", type=int, default=None, help="Questions to train on (default: all).")
    parser.add_argument("--layers", type=int, default=6, help="Layers of all-MiniLM-L6-v2 to keep (at most 6).")
    parser.add_argument("--batch", type=int, default=8, help="Questions per batch (each with ~4 sentences).")
    parser.add_argument("--lr", type=float, default=8e-5)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "qa" / "models")
    parser.add_argument("--checkpoint", type=Path, default=None, help="Also save the torch weights here.")
    args = parser.parse_args(argv)

    import torch

    torch.manual_seed(SEED)
    rng = random.Random(SEED)
    torch.set_num_threads(min(os.cpu_count() or 1, 8))
    groups = [json.loads(line) for line in args.train.read_text(encoding="utf-8").splitlines() if line]
    rng.shuffle(groups)
    groups = groups[: args.groups or None]
    tokenizer = load_tokenizer()
    batches = _batches(groups, tokenizer, args.batch, rng)
    model = build_model(args.layers)
    # the word-piece embeddings stay as trained (11.7M of the 18M weights): a quicker step, and the
    # reader keeps the embedding model's vocabulary untouched
    model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    heads = [p for n, p in model.named_parameters() if not n.startswith("bert.")]
    body = [p for n, p in model.named_parameters() if n.startswith("bert.") and p.requires_grad]
    optimizer = torch.optim.AdamW([{"params": body, "lr": args.lr}, {"params": heads, "lr": args.lr * 10}],
                                  weight_decay=0.01)
    warmup = max(1, len(batches) // 20)

    def schedule(step: int) -> float:
        return min(1.0, (step + 1) / warmup) * max(0.0, (len(batches) - step) / max(1, len(batches) - warmup))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, [schedule, schedule])
    model.train()
    began = time.monotonic()
    pairs, running = 0, 0.0
    for step, batch in enumerate(batches, start=1):
        t = _tensors(batch)
        loss = _loss(model, t)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        pairs += len(t["rel"])
        value = float(loss.detach())
        running = 0.98 * running + 0.02 * value if step > 1 else value
        if step % 50 == 0 or step == len(batches):
            elapsed = time.monotonic() - began
            eta = elapsed / step * (len(batches) - step)
            print(f"step {step}/{len(batches)} loss {running:.3f} {pairs / elapsed:.0f} pairs/s "
                  f"eta {math.ceil(eta / 60)} min", file=sys.stderr, flush=True)
    wall = time.monotonic() - began
    if args.checkpoint:
        torch.save(model.state_dict(), args.checkpoint)
    counts: dict[str, int] = {}
    for g in groups:
        counts[g["source"]] = counts.get(g["source"], 0) + 1
    meta = {
        "name": "newsdesk-reader",
        "base": "sentence-transformers/all-MiniLM-L6-v2",
        "layers": args.layers,
        "max_tokens": MAX_TOKENS,
        "seed": SEED,
        "questions": counts,
        "pairs": pairs,
        "train_seconds": round(wall),
        "command": "python -m eval.reader_train " + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    target = export(model, args.out, meta)
    print(f"wrote {target} ({target.stat().st_size:,} bytes) after {wall / 60:.1f} min of training", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
