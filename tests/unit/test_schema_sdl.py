"""schema.graphql is the exported SDL: stale files and breaking changes fail."""

from __future__ import annotations

from pathlib import Path

from graphql import build_schema, find_breaking_changes

from lifeos_gql.api.sdl import schema_sdl

COMMITTED = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_committed_schema_is_current():
    assert COMMITTED.read_text(encoding="utf-8") == schema_sdl(), (
        "schema.graphql is stale: run `lifeos-gql export-schema` and commit it"
    )


def test_no_breaking_changes_against_committed_sdl():
    committed = build_schema(COMMITTED.read_text(encoding="utf-8"))
    current = build_schema(schema_sdl())
    breaking = find_breaking_changes(committed, current)
    assert not breaking, "\n".join(f"{c.type.name}: {c.description}" for c in breaking)


def test_breaking_change_detection_works():
    old = build_schema("type Query { me: String, gone: Int }")
    new = build_schema("type Query { me: String }")
    assert find_breaking_changes(old, new)
