"""``captureBatch``'s direct ``results`` path answers exactly what field-by-field execution does."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from graphql import ExecutionResult, GraphQLObjectType, execute, parse

from lifeos_gql.api import bulk
from lifeos_gql.api.schema import default_schema
from lifeos_gql.api.types.ingest import CaptureBatchPayload, CaptureResult
from lifeos_gql.domains.captures.models import (
    AnalysisStatus,
    CaptureRecord,
    DuplicateReason,
    IngestOutcome,
    IngestStatus,
)

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _record(n: int) -> CaptureRecord:
    return CaptureRecord(
        id=uuid.UUID(int=n + 1),
        owner_id=uuid.UUID(int=1000),
        stream_id=uuid.UUID(int=2000),
        author_id=uuid.UUID(int=1000),
        occurred_at=NOW,
        captured_at=NOW,
        title=f"t{n}",
        content=f"c{n}",
        data={"n": n},
        external_id=None,
        size_bytes=3,
        analysis_status=AnalysisStatus.PENDING,
        analysis_error=None,
    )


OUTCOMES = [
    IngestOutcome(0, IngestStatus.CREATED, capture=_record(0)),
    IngestOutcome(
        1, IngestStatus.DUPLICATE, capture=_record(0), duplicate_reason=DuplicateReason.EXTERNAL_ID
    ),
    IngestOutcome(2, IngestStatus.INVALID, code="EMPTY", message="empty", field="content"),
    IngestOutcome(3, IngestStatus.INVALID, code="TOO_LARGE", message="big", field=None),
    IngestOutcome(4, IngestStatus.DUPLICATE, capture=None, duplicate_reason=None),
    IngestOutcome(5, IngestStatus.CREATED, capture=_record(5)),
]


def _built_results(*_args: Any, **_kwargs: Any) -> CaptureBatchPayload:
    """The payload with its results as ready-made objects, as the ``capture`` mutation makes them."""
    payload = bulk.batch_payload(OUTCOMES)
    payload.results = [CaptureResult.from_outcome(o) for o in OUTCOMES]
    return payload


@pytest.fixture(scope="module", params=["lazy", "built"])
def schema(request: Any) -> Any:
    built = default_schema()
    mutation = built._schema.mutation_type
    assert isinstance(mutation, GraphQLObjectType)
    # The stored outcomes instead of a database: only the response path is under test.
    mutation.fields["captureBatch"].resolve = (
        (lambda *_a, **_k: bulk.batch_payload(OUTCOMES))
        if request.param == "lazy"
        else _built_results
    )
    return built


def _run(schema: Any, selection: str, executor: Any) -> ExecutionResult:
    query = f"mutation {{ captureBatch(inputs: []) {{ results {selection} createdCount }} }}"
    result = execute(schema._schema, parse(query), executor_class=executor)
    assert isinstance(result, ExecutionResult)
    return result


@pytest.mark.parametrize(
    "selection",
    [
        "{ index status capture { id } error { code message } }",
        "{ index status duplicateReason capture { id __typename } error { code message field } }",
        "{ i: index s: status __typename e: error { f: field c: code } cap: capture { key: id } }",
        # Not plain: the generic path answers, and both must agree anyway.
        "{ index capture { id title occurredAt analysisStatus } }",
        "{ ...on CaptureResult { index status } }",
        "{ index status @include(if: false) }",
        "{ index index status }",
    ],
)
def test_direct_results_equal_field_by_field_results(schema: Any, selection: str) -> None:
    # Strawberry's own executor, which the direct path's executor extends.
    generic_executor = schema.execution_context_class.__bases__[0]
    direct = _run(schema, selection, schema.execution_context_class)
    generic = _run(schema, selection, generic_executor)
    assert direct.errors is None and generic.errors is None
    assert direct.data == generic.data
    assert list(direct.data["captureBatch"]["results"][0]) == list(
        generic.data["captureBatch"]["results"][0]
    )  # same key order in the JSON


def test_plain_selection_skips_per_field_resolvers(schema: Any, monkeypatch: Any) -> None:
    calls: list[str] = []
    result_type = schema._schema.type_map["CaptureResult"]
    original = result_type.fields["index"].resolve

    def counting(source: Any, info: Any, **kwargs: Any) -> Any:
        calls.append(info.field_name)
        return original(source, info, **kwargs)

    monkeypatch.setattr(result_type.fields["index"], "resolve", counting)
    _run(schema, "{ index status capture { id } }", schema.execution_context_class)
    assert calls == []
    _run(schema, "{ ...on CaptureResult { index } }", schema.execution_context_class)
    assert len(calls) == len(OUTCOMES)  # a fragment takes the generic path
