"""Results returned to users: pydantic models whose JSON is the ``ask --json`` object."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

OPTIONAL_KEYS = ("also_in", "span_start", "span_end")
"""Sentence keys left out of the JSON when empty (``source``/``published``/``url`` stay, as null)."""


class ArticleRef(BaseModel):
    """Another article carrying the same sentence (a syndicated copy)."""

    model_config = ConfigDict(frozen=True)

    article_id: str = Field(description="Id of the article holding the copy.")
    source: str | None = Field(description="Its outlet.")
    published: str | None = Field(description="Its date, ISO, as given.")


class Sentence(BaseModel):
    """One candidate sentence, quoted exactly from its article, with its citation."""

    model_config = ConfigDict(frozen=True)

    text: str = Field(description="The sentence, exactly ``article_text[start:end]``.")
    article_id: str = Field(description="Id of the article it comes from.")
    title: str = Field(description="The article's headline.")
    source: str | None = Field(description="The outlet.")
    published: str | None = Field(description="The article's date, ISO, as given.")
    url: str | None = Field(description="Link to the article.")
    start: int = Field(description="Offset of the first character in the article text.")
    end: int = Field(description="Offset just past the last character.")
    score: float = Field(description="Ranking score in [0, 1]; higher is better.")
    span_start: int | None = Field(
        default=None, description="Start of the answer phrase (article offset, within the sentence); left out when none."
    )
    span_end: int | None = Field(default=None, description="End of the answer phrase (article offset); left out when none.")
    also_in: list[ArticleRef] | None = Field(
        default=None, description="Other articles (syndicated copies) carrying the same sentence; left out when none."
    )

    @model_serializer(mode="wrap")
    def _drop_empty_optional(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if isinstance(data, dict):
            for key in OPTIONAL_KEYS:
                if key in data and data[key] in (None, []):
                    del data[key]
        return data


class Answer(BaseModel):
    """The answer to one question: ranked sentences, and whether they answer it."""

    model_config = ConfigDict(frozen=True)

    question: str = Field(description="The question as asked.")
    answered: bool = Field(description="False when the articles do not hold the answer.")
    confidence: float = Field(description="Estimated probability, in [0, 1], that the first sentence answers it.")
    sentences: list[Sentence] = Field(description="Candidates, best first; present even when not answered.")
