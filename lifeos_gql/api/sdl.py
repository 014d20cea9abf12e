"""The SDL as committed in ``schema.graphql``."""

from __future__ import annotations

from lifeos_gql.api.schema import default_schema


def schema_sdl() -> str:
    return default_schema().as_str().rstrip() + "\n"
