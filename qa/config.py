"""Settings, read from arguments and ``NEWSDESK_*`` environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from index.embed.embedder import DEFAULT_BACKEND


class Settings(BaseSettings):
    """Everything a user can configure; build once and pass to :class:`qa.Assistant`."""

    model_config = SettingsConfigDict(env_prefix="NEWSDESK_", extra="ignore")

    index: Path | str = Field(
        Path(".newsdesk"),
        description="Index directory, or a postgresql://user@host:port/db URL (NEWSDESK_INDEX).",
    )
    model: Path | None = Field(
        None, description="Local sentence-transformers folder; default: the bundled all-MiniLM-L6-v2."
    )
    backend: str = Field(
        DEFAULT_BACKEND, description="Embedding backend: onnx-int8 (measured fastest at torch quality), onnx or torch."
    )
    top_k: int = Field(5, ge=1, le=100, description="Sentences returned per question.")
    min_confidence: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description=(
            "Decline (answered = false) when the confidence (the estimated probability that the first sentence "
            "answers the question) is below this; default: the fitted threshold in qa/weights.json."
        ),
    )
    reader: bool = Field(
        True,
        description=(
            "Rerank the best candidates with the trained reader and mark answer phrases (NEWSDESK_READER=0: "
            "the feature ranker alone, as before the reader)."
        ),
    )

    @field_validator("index", mode="before")
    @classmethod
    def _location(cls, value: object) -> Path | str:
        """A postgresql:// URL stays text (a Path would fold its ``//``); anything else is a folder."""
        from index.location import parse

        return parse(value) if isinstance(value, str | Path) else value  # type: ignore[return-value]
