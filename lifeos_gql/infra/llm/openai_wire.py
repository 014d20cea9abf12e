"""The JSON the OpenAI analyser asks a model for, and its strict JSON schema.

The wire models mirror :mod:`.types` but carry what the model must produce
(relations start at the entry's own ref, so there is no ``from_ref`` to get
wrong). The schema sent with ``strict: true`` is derived from them and cut
down to the keywords structured outputs accept: every object closed
(``additionalProperties: false``) and every property required.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from openai.types.shared_params import ResponseFormatJSONSchema
from pydantic import BaseModel, ConfigDict, Field

from lifeos_gql.infra.llm.types import ConceptKind, InsightKind

SCHEMA_NAME = "lifeos_analysis"
RelationKind = Literal[
    "same_person",
    "same_organisation",
    "same_place",
    "same_topic",
    "same_event",
    "same_project",
    "follows_up",
    "supports",
    "contradicts",
    "elaborates",
    "related",
]
Unit = Annotated[float, Field(ge=0.0, le=1.0)]
# Keywords that strict structured outputs accept; anything else is dropped.
_ALLOWED_KEYWORDS = frozenset(
    {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "enum",
        "description",
        "$defs",
        "$ref",
        "anyOf",
        "minimum",
        "maximum",
        "maxItems",
    }
)


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WireInsight(_Wire):
    kind: InsightKind
    text: str
    confidence: Unit


class WireConcept(_Wire):
    name: str
    kind: ConceptKind
    salience: Unit
    aliases: list[str]


class WireRelation(_Wire):
    to_ref: str = Field(description="ref of another item in this request")
    relation: RelationKind
    evidence: str
    weight: Unit


class WireItem(_Wire):
    ref: str = Field(description="the item's ref, copied exactly")
    insights: list[WireInsight]
    concepts: list[WireConcept]
    relations: list[WireRelation]


class WireResponse(_Wire):
    items: list[WireItem] = Field(description="exactly one entry per item in the request")


def strict_schema(model: type[BaseModel]) -> dict[str, Any]:
    """``model``'s JSON schema in the form ``strict: true`` structured outputs require."""
    return _strict(model.model_json_schema())  # type: ignore[no-any-return]


def _strict(node: Any) -> Any:
    if isinstance(node, list):
        return [_strict(child) for child in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "properties" or key == "$defs":
            out[key] = {name: _strict(child) for name, child in value.items()}
        elif key in _ALLOWED_KEYWORDS:
            out[key] = _strict(value)
    if out.get("type") == "object" or "properties" in out:
        out["additionalProperties"] = False
        out["required"] = list(out.get("properties", {}))
    return out


def response_format() -> ResponseFormatJSONSchema:
    """The ``response_format`` argument for ``chat.completions.create``."""
    return {
        "type": "json_schema",
        "json_schema": {"name": SCHEMA_NAME, "strict": True, "schema": strict_schema(WireResponse)},
    }
