"""The trust boundary of a submission: pydantic models (extra="forbid") for `meta.json` and a responses.jsonl line.

These models only check what arrives; the loader turns them into the shared records (`RunMeta`, `Response`).
`json_schema()` is what `docs/submission.schema.json` holds (a test keeps the committed file up to date).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)

from zbb.records import RunMeta, Steering, WordTiming

SCHEMA_VERSION = 1

#: Longest display name / id a submission may give: run ids, file names and the board's columns are built from them.
MAX_NAME_CHARS = 100
MAX_ID_CHARS = 200
MAX_TEXT_CHARS = 2000  # free-text fields (notes)
MAX_DECODING_CHARS = 4000  # the free-form decoding settings, as compact JSON


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SteeringModel(_Strict):
    """Activation-steering settings (the paper's perception vector): null in meta.json for an unsteered run."""

    method: StrictStr = Field("perception-vector", max_length=MAX_NAME_CHARS, description="steering method name")
    layer: int | None = Field(None, ge=0, le=100_000, description="layer the vector is added at")
    alpha: float | None = Field(None, allow_inf_nan=False, description="steering strength (a finite number)")
    span: int | None = Field(
        None, ge=1, le=100_000, description="number of model timesteps steered after the onset (dT)"
    )
    vector_sha256: StrictStr | None = Field(
        None, pattern=r"^[0-9a-f]{64}$", description="sha256 of the vector's float32 bytes"
    )
    layer_base: int | None = Field(None, ge=0, le=1, description="how `layer` counts: from 0 or from 1")
    onset: StrictStr | None = Field(
        None, max_length=MAX_NAME_CHARS, description="where steering starts: energy (detector) or oracle (onset_s)"
    )


class MetaModel(_Strict):
    """meta.json: what the submission says about the model and how its outputs were produced."""

    model: StrictStr = Field(min_length=1, max_length=MAX_NAME_CHARS, description="display name, e.g. 'Moshi'")
    model_id: StrictStr | None = Field(
        None, max_length=MAX_ID_CHARS, description="Hugging Face Hub repo of the weights"
    )
    revision: StrictStr | None = Field(None, max_length=MAX_ID_CHARS, description="weights revision (commit)")
    steering: SteeringModel | None = Field(None, description="null for an unsteered run")
    decoding: dict[str, Any] = Field(
        default_factory=dict, description=f"sampling settings, free-form (at most {MAX_DECODING_CHARS} characters)"
    )
    dataset: StrictStr | None = Field(
        None,
        max_length=MAX_ID_CHARS,
        description="dataset fingerprint, or Hub id[@revision], the outputs were made on",
    )
    notes: StrictStr = Field("", max_length=MAX_TEXT_CHARS)
    model_family: StrictStr | None = Field(None, max_length=MAX_NAME_CHARS)
    model_url: StrictStr | None = Field(None, max_length=MAX_ID_CHARS)
    paper_url: StrictStr | None = Field(None, max_length=MAX_ID_CHARS)
    backend: StrictStr | None = Field(
        None, max_length=MAX_NAME_CHARS, description="zbb run backend that made the outputs (moshi, personaplex, tiny)"
    )

    @field_validator("decoding")
    @classmethod
    def _small_decoding(cls, value: dict[str, Any]) -> dict[str, Any]:
        size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False))
        if size > MAX_DECODING_CHARS:
            raise ValueError(f"decoding settings are {size} characters as JSON; the limit is {MAX_DECODING_CHARS}")
        return value

    def to_record(self) -> RunMeta:
        steering = Steering(**self.steering.model_dump()) if self.steering is not None else None
        return RunMeta(**{**self.model_dump(exclude={"steering"}), "steering": steering})


class WordModel(_Strict):
    """A response word; `start`/`end` in seconds from the start of the row's user audio."""

    word: StrictStr = Field(min_length=1, max_length=MAX_ID_CHARS)
    start: float = Field(ge=0, allow_inf_nan=False)
    end: float = Field(ge=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _ordered(self) -> WordModel:
        if self.end < self.start:
            raise ValueError(f"word {self.word!r} ends ({self.end}) before it starts ({self.start})")
        return self

    def to_record(self) -> WordTiming:
        return WordTiming(word=self.word, start=self.start, end=self.end)


class ResponseLine(_Strict):
    """One line of responses.jsonl: what the model said on row (id, condition) from the claim's onset on."""

    id: StrictStr = Field(min_length=1, max_length=MAX_ID_CHARS, description="bank item id (row id of the dataset)")
    condition: StrictStr = Field(
        max_length=MAX_NAME_CHARS, description="dataset condition: no_interrupt, interrupt or interrupt_buffered"
    )
    response: StrictStr = Field(description="the model's words after the claim's onset")
    words: list[WordModel] | None = Field(
        None, description="optional word times, seconds from the start of the user audio"
    )
    silent: StrictBool = Field(False, description='true (with response "") when the model said nothing on this row')

    @model_validator(mode="after")
    def _non_empty(self) -> ResponseLine:
        if not self.response.strip() and not self.silent:
            raise ValueError(
                'empty response; write the model\'s words, or "response": "" with "silent": true '
                "when the model said nothing"
            )
        if self.silent and self.response.strip():
            raise ValueError('"silent": true but the response holds words')
        return self


def describe_errors(exc: ValidationError) -> list[str]:
    """Pydantic errors as short lines: `field: what was expected (got what arrived)`."""
    lines = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            lines.append(f"unknown field {loc!r}")
            continue
        if not loc:  # a check across the whole line (a model validator): its message says what is wrong
            lines.append(msg)
            continue
        got = err.get("input")
        shown = repr(got) if not isinstance(got, dict) else "an object"
        if len(shown) > 60:
            shown = shown[:57] + "..."
        lines.append(f"{loc}: {msg}" + ("" if err["type"] == "missing" else f" (got {shown})"))
    return lines


def json_schema() -> dict[str, Any]:
    """The JSON Schema of meta.json (`#/$defs/MetaModel`) and of one responses.jsonl line (`#/$defs/ResponseLine`),
    as committed in docs/submission.schema.json."""
    from pydantic.json_schema import models_json_schema

    _, defs = models_json_schema(
        [(MetaModel, "validation"), (ResponseLine, "validation")], ref_template="#/$defs/{model}"
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"ZBB submission (schema version {SCHEMA_VERSION})",
        "description": "A ZBB submission folder or zip: meta.json (#/$defs/MetaModel) plus responses.jsonl, one "
        "#/$defs/ResponseLine object per line, or audio/<condition>/<id>.wav. See docs/SUBMISSION.md.",
        "files": {"meta.json": {"$ref": "#/$defs/MetaModel"}, "responses.jsonl": {"$ref": "#/$defs/ResponseLine"}},
        **defs,
    }


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":  # python -m zbb.submission.schema > docs/submission.schema.json
    print(schema_text(), end="")
