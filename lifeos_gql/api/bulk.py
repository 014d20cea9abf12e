"""``captureBatch`` reads graphql-core's coerced inputs directly.

Strawberry turns every input object into its dataclass field by field
through its generic type machinery: about 0.1 ms per ``CaptureInput``, so
100 ms for a 1,000-item batch, as long as storing the batch. graphql-core
has already validated and coerced the variables against the very same
schema type (required fields present, scalars parsed: ``occurredAt`` is a
``datetime``, ``data`` is JSON), so the resolver of this one bulk field
takes those dicts as they are. The field's SDL is unchanged.

The way back is trimmed the same way: the 1,000 per-item results are built
only when something reads them as objects, and a plain selection under
``results`` is answered without executing its ~5,000 fields one by one
(see ``_results_executor``); both give the JSON field-by-field execution
gives (``tests/unit/test_capture_batch_results.py``).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from operator import attrgetter
from typing import Any

import strawberry
from graphql import (
    FieldNode,
    GraphQLEnumType,
    GraphQLObjectType,
    GraphQLResolveInfo,
    SelectionSetNode,
)
from strawberry.types.field import StrawberryField

from lifeos_gql.api.context import Context
from lifeos_gql.api.types.capture import Capture
from lifeos_gql.api.types.common import ItemError
from lifeos_gql.api.types.ingest import (
    RESULT_REASON,
    RESULT_STATUS,
    CaptureBatchPayload,
    CaptureResult,
    CaptureResults,
    CaptureStatus,
    DuplicateReason,
)
from lifeos_gql.core.ids import decode_global_id, encode_global_id
from lifeos_gql.domains.captures.models import CaptureDraft, IngestOutcome, IngestStatus
from lifeos_gql.ingest import capture_drafts


def drafts_from_inputs(inputs: Sequence[Mapping[str, Any]]) -> list[CaptureDraft]:
    """``CaptureInput``s as graphql-core coerced them (GraphQL field names).

    A batch usually names one stream a thousand times: its id is decoded once.
    """
    stream_ids: dict[str, uuid.UUID] = {}
    drafts = []
    for raw in inputs:
        global_id = raw["streamId"]
        stream_id = stream_ids.get(global_id)
        if stream_id is None:
            stream_id = stream_ids[global_id] = decode_global_id(global_id, expected="Stream").id
        drafts.append(
            CaptureDraft(
                stream_id=stream_id,
                occurred_at=raw.get("occurredAt"),
                title=raw.get("title"),
                content=raw.get("content"),
                data=raw.get("data"),
                external_id=raw.get("externalId"),
            )
        )
    return drafts


async def ingest_drafts(ctx: Context, drafts: Sequence[CaptureDraft]) -> list[IngestOutcome]:
    """Capture in one transaction (analysis queued with it), honouring Idempotency-Key."""
    return await capture_drafts(
        ctx.runtime,
        ctx.actor,
        drafts,
        idempotency_key=ctx.request.headers.get("idempotency-key"),
    )


def batch_payload(outcomes: Sequence[IngestOutcome]) -> CaptureBatchPayload:
    counts = Counter(o.status for o in outcomes)
    return CaptureBatchPayload(
        # Built lazily: the direct results path reads the outcomes themselves.
        results=CaptureResults(outcomes),  # type: ignore[arg-type]
        created_count=counts[IngestStatus.CREATED],
        duplicate_count=counts[IngestStatus.DUPLICATE],
        invalid_count=counts[IngestStatus.INVALID],
    )


async def _resolve_capture_batch(
    root: object, info: GraphQLResolveInfo[Context], inputs: list[Mapping[str, Any]]
) -> CaptureBatchPayload:
    return batch_payload(await ingest_drafts(info.context, drafts_from_inputs(inputs)))


def _attribute_resolver(python_name: str) -> Callable[..., Any]:
    get = attrgetter(python_name)

    def resolve(source: Any, info: GraphQLResolveInfo[Context], **kwargs: Any) -> Any:
        return get(source)

    resolve._is_default = True  # type: ignore[attr-defined]  # tracing skips it, as Strawberry's
    return resolve


# The object types of a batch's per-item results: a 1,000-item batch
# resolves about 5,000 of their fields.
_RESULT_TYPES = ("CaptureResult", "ItemError", "Capture")


# -- the results list without per-field execution --------------------------------
#
# Completing ``results`` field by field costs graphql-core about 2.5 µs per
# field: 5,000 fields, 13 ms of a 1,000-item batch, a sixth of the request.
# When the selection under ``results`` is plain (fields and ``__typename``
# only: no fragments, directives, arguments, repeated response keys or
# @defer/@stream), the list is built directly, with each value serialised
# by its own GraphQL type exactly as the generic path would; anything else,
# or any value the generic path would reject, takes the generic path.

_Plan = list[tuple[str, str, Any]]  # (response key, field name, sub-plan | None)
_Item = tuple[Any, Any, Any, Any, tuple[Any, Any, Any] | None]

_PLAIN_FIELDS = {
    "CaptureResult": {"index", "status", "duplicateReason", "capture", "error"},
    "Capture": {"id"},
    "ItemError": {"code", "message", "field"},
}
_CHILD_TYPE = {"capture": "Capture", "error": "ItemError"}


def _plan(selection_set: SelectionSetNode | None, type_name: str) -> _Plan | None:
    """The selection as (key, field, sub-plan) triples, or None if it is not plain."""
    if selection_set is None:
        return None
    plan: _Plan = []
    keys: set[str] = set()
    for selection in selection_set.selections:
        if not isinstance(selection, FieldNode) or selection.directives or selection.arguments:
            return None
        name = selection.name.value
        key = selection.alias.value if selection.alias else name
        if key in keys:
            return None
        keys.add(key)
        if name == "__typename":
            plan.append((key, name, None))
        elif name in _PLAIN_FIELDS[type_name]:
            child = _CHILD_TYPE.get(name) if type_name == "CaptureResult" else None
            if child is None:
                plan.append((key, name, None))
            else:
                sub = _plan(selection.selection_set, child)
                if sub is None:
                    return None
                plan.append((key, name, sub))
        else:
            return None
    return plan


class _NotPlain(Exception):
    """A value the generic path would treat differently (an error): let it."""


def _results_executor(schema: strawberry.Schema) -> type[Any]:
    """Strawberry's executor with a direct path for ``CaptureBatchPayload.results``."""
    graphql_schema = schema._schema
    payload_type = graphql_schema.type_map["CaptureBatchPayload"]
    status_type = graphql_schema.type_map["CaptureStatus"]
    reason_type = graphql_schema.type_map["DuplicateReason"]
    assert isinstance(status_type, GraphQLEnumType) and isinstance(reason_type, GraphQLEnumType)
    statuses = {s: status_type.serialize(s) for s in CaptureStatus}
    reasons = {r: reason_type.serialize(r) for r in DuplicateReason}

    def text(value: Any, nullable: bool) -> Any:
        if value is None and nullable:
            return None
        if type(value) is not str:
            raise _NotPlain
        return value

    # Both sources become (index, status, reason, capture id, error) first.
    def of_result(item: Any) -> _Item:
        if type(item) is not CaptureResult:
            raise _NotPlain
        capture, error = item.capture, item.error
        if capture is not None and type(capture) is not Capture:
            raise _NotPlain
        if error is not None and type(error) is not ItemError:
            raise _NotPlain
        return (
            item.index,
            item.status,
            item.duplicate_reason,
            None if capture is None else capture.id,
            None if error is None else (error.code, error.message, error.field),
        )

    def of_outcome(outcome: IngestOutcome) -> _Item:
        # What ``CaptureResult.from_outcome`` makes of it (the unit test
        # compares both paths on every kind of outcome).
        record = outcome.capture
        return (
            outcome.index,
            RESULT_STATUS[outcome.status],
            None if outcome.duplicate_reason is None else RESULT_REASON[outcome.duplicate_reason],
            None if record is None else encode_global_id("Capture", record.id),
            (outcome.code, outcome.message or "", outcome.field) if outcome.code else None,
        )

    def build(row: _Item, plan: _Plan) -> dict[str, Any]:
        index, status, reason, capture_id, error = row
        if type(index) is not int or not -(2**31) <= index < 2**31:
            raise _NotPlain  # Int is 32-bit; the generic path reports it
        if status not in statuses or (reason is not None and reason not in reasons):
            raise _NotPlain
        out: dict[str, Any] = {}
        for key, name, sub in plan:
            if name == "index":
                out[key] = index
            elif name == "status":
                out[key] = statuses[status]
            elif name == "duplicateReason":
                out[key] = None if reason is None else reasons[reason]
            elif name == "capture":
                out[key] = (
                    None
                    if capture_id is None
                    else {
                        k: "Capture" if n == "__typename" else text(capture_id, nullable=False)
                        for k, n, _ in sub
                    }
                )
            elif name == "error":
                out[key] = None if error is None else _error(error, sub)
            else:
                out[key] = "CaptureResult"
        return out

    def _error(error: tuple[Any, Any, Any], plan: _Plan) -> dict[str, Any]:
        code, message, field = error
        values = {"code": code, "message": message, "field": field}
        return {
            key: "ItemError" if name == "__typename" else text(values[name], name == "field")
            for key, name, _ in plan
        }

    base: Any = schema.execution_context_class

    class BatchResultsExecutor(base):  # type: ignore[misc]
        def complete_list_value(
            self,
            return_type: Any,
            field_details_list: Any,
            info: GraphQLResolveInfo[Any],
            path: Any,
            result: Any,
            position_context: Any,
        ) -> Any:
            if (
                info.parent_type is payload_type
                and info.field_name == "results"
                and type(result) in (list, CaptureResults)
                and len(field_details_list) == 1
                and not (self.middleware_manager and self.middleware_manager.middlewares)
            ):
                details = field_details_list[0]
                plan = (
                    _plan(details.node.selection_set, "CaptureResult")
                    if details.defer_usage is None
                    and details.fragment_variable_values is None
                    and not details.node.directives
                    else None
                )
                if plan is not None:
                    try:
                        if type(result) is CaptureResults:
                            return [build(of_outcome(o), plan) for o in result.outcomes]
                        return [build(of_result(item), plan) for item in result]
                    except _NotPlain:
                        pass
            return super().complete_list_value(
                return_type, field_details_list, info, path, result, position_context
            )

    return BatchResultsExecutor


def install_bulk_resolvers(schema: strawberry.Schema) -> None:
    """Point ``Mutation.captureBatch`` at the dict-reading resolver; plain getters for results.

    Strawberry resolves an attribute-only field through two wrapper calls
    that end in ``getattr(source, python_name)``; the fields of the result
    types get that ``getattr`` directly (same value, same schema), which
    takes about a sixth off completing a batch's results. Fields with a
    resolver or field extensions (``Capture.data``'s ``@requiresRole``)
    keep Strawberry's.
    """
    mutation = schema._schema.mutation_type
    if mutation is None:
        raise RuntimeError("the schema has no Mutation type")
    mutation.fields["captureBatch"].resolve = _resolve_capture_batch
    schema.execution_context_class = _results_executor(schema)
    for type_name in _RESULT_TYPES:
        graphql_type = schema._schema.type_map[type_name]
        assert isinstance(graphql_type, GraphQLObjectType)
        for field in graphql_type.fields.values():
            definition = field.extensions.get("strawberry-definition")
            if (
                isinstance(definition, StrawberryField)
                and definition.is_basic_field
                and not definition.extensions
                and getattr(field.resolve, "_is_default", False)
            ):
                field.resolve = _attribute_resolver(definition.python_name)
