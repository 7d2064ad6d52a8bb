"""``newsdesk verify``: the live generation checked completely, and what else lies in the folder."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from index.storage import ModelInfo
from index.store.layout import GENERATION_NAME, generations, read_pointer
from index.store.read import load


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """What :func:`verify` checked."""

    index_dir: Path
    generation: int
    format_version: int
    files: int
    bytes: int
    counts: dict[str, int]
    model: ModelInfo
    manifest_checked: bool
    """Whether CURRENT carried the manifest's sha256 (indexes written before it did not)."""
    unlisted: list[str]
    """Files in the generation folder that the manifest does not list (never read)."""
    previous: int | None
    """The previous generation kept on disk, if any."""
    leftovers: list[str] = field(default_factory=list)
    """Temp files and unpublished generations of interrupted writers (the next write removes them)."""


def verify(index_dir: Path) -> VerifyReport:
    """Check the live generation completely (every checksum, count and row reference)."""
    index_dir = Path(index_dir)
    data = load(index_dir)
    generation, folder, manifest = data.generation, index_dir / f"gen-{data.generation:06d}", data.manifest
    listed = set(manifest["files"]) | {"manifest.json"}
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() or p.is_symlink()}
    older = [g for g in generations(index_dir) if g < generation]
    pointer = read_pointer(index_dir)
    return VerifyReport(
        index_dir=index_dir,
        generation=generation,
        format_version=int(manifest["format_version"]),
        files=len(manifest["files"]) + 1,
        bytes=sum(int(m["bytes"]) for m in manifest["files"].values()),
        counts={k: int(v) for k, v in manifest["counts"].items()},
        model=data.model,
        manifest_checked=bool(pointer and pointer.manifest_sha256),
        unlisted=sorted(present - listed),
        previous=older[-1] if older else None,
        leftovers=sorted(
            entry.name
            for entry in index_dir.iterdir()
            if entry.name.startswith(".tmp-")
            or (entry.name.startswith(".") and entry.name.endswith(".tmp"))
            or ((m := GENERATION_NAME.match(entry.name)) is not None and int(m.group(1)) > generation)
        ),
    )
