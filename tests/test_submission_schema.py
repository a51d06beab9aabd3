"""The committed JSON Schema of the submission format is the one the pydantic models generate, and it agrees with
them on real lines."""

import json
from pathlib import Path

from zbb.submission.schema import ResponseLine, schema_text

SCHEMA = Path(__file__).resolve().parents[1] / "docs" / "submission.schema.json"


def test_committed_schema_is_up_to_date():
    assert SCHEMA.read_text(encoding="utf-8") == schema_text(), (
        "docs/submission.schema.json is stale: run `python -m zbb.submission.schema > docs/submission.schema.json`"
    )


def test_schema_forbids_unknown_fields_and_requires_the_keys():
    defs = json.loads(SCHEMA.read_text())["$defs"]
    line, meta = defs["ResponseLine"], defs["MetaModel"]
    assert line["additionalProperties"] is False and meta["additionalProperties"] is False
    assert set(line["required"]) == {"id", "condition", "response"} and meta["required"] == ["model"]
    assert set(line["properties"]) == set(ResponseLine.model_fields)
