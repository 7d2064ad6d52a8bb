"""Results returned to users: pydantic models whose JSON is the ``ask --json`` object."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


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


class Answer(BaseModel):
    """The answer to one question: ranked sentences, and whether they answer it."""

    model_config = ConfigDict(frozen=True)

    question: str = Field(description="The question as asked.")
    answered: bool = Field(description="False when the articles do not hold the answer.")
    confidence: float = Field(description="Estimated probability, in [0, 1], that the first sentence answers it.")
    sentences: list[Sentence] = Field(description="Candidates, best first; present even when not answered.")
