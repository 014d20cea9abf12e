"""The scope check: each operation type needs its scope, before anything runs."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any

import pytest
import strawberry
from strawberry.types import Info

from lifeos_gql.api.errors import ErrorShaping
from lifeos_gql.api.scopes import ScopeCheck
from lifeos_gql.core.actor import ALL_SCOPES, Actor, Scope


@dataclass
class FakeContext:
    actor: Actor
    calls: list[str] = field(default_factory=list)


@strawberry.type
class Query:
    @strawberry.field
    def ping(self, info: Info[FakeContext, None]) -> str:
        info.context.calls.append("query")
        return "pong"

    @strawberry.field
    def me(self, info: Info[FakeContext, None]) -> str | None:
        info.context.calls.append("me")
        return None


@strawberry.type
class Mutation:
    @strawberry.mutation
    def touch(self, info: Info[FakeContext, None]) -> bool:
        info.context.calls.append("mutation")
        return True


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def ticks(self, info: Info[FakeContext, None]) -> AsyncGenerator[int, None]:
        info.context.calls.append("subscription")
        yield 1


SCHEMA = strawberry.Schema(
    query=Query, mutation=Mutation, subscription=Subscription, extensions=[ErrorShaping, ScopeCheck]
)


def token_actor(*scopes: Scope) -> Actor:
    return Actor(user_id=uuid.uuid4(), scopes=frozenset(scopes), via="api-token")


def assert_missing(errors: Any, scope: str) -> None:
    assert errors and len(errors) == 1
    assert errors[0].extensions == {"code": "FORBIDDEN", "reason": "missing_scope", "scope": scope}


async def run(actor: Actor, query: str) -> tuple[Any, list[str]]:
    context = FakeContext(actor)
    result = await SCHEMA.execute(query, context_value=context)
    return result, context.calls


async def subscribe(actor: Actor) -> tuple[list[Any], list[str]]:
    context = FakeContext(actor)
    results = []
    stream = await SCHEMA.subscribe("subscription { ticks }", context_value=context)
    if hasattr(stream, "__aiter__"):
        async for result in stream:
            results.append(result)
    else:
        results.append(stream)
    return results, context.calls


async def test_read_only_token_queries_but_cannot_mutate() -> None:
    result, calls = await run(token_actor(Scope.READ), "{ ping }")
    assert result.errors is None and result.data == {"ping": "pong"} and calls == ["query"]
    result, calls = await run(token_actor(Scope.READ), "mutation { touch }")
    assert_missing(result.errors, "WRITE")
    assert result.data is None and calls == []  # the resolver never ran


async def test_write_only_token_mutates_but_cannot_query() -> None:
    result, calls = await run(token_actor(Scope.WRITE), "mutation { touch }")
    assert result.errors is None and calls == ["mutation"]
    result, calls = await run(token_actor(Scope.WRITE), "{ ping }")
    assert_missing(result.errors, "READ")
    assert calls == []


async def test_the_executed_operation_decides() -> None:
    document = "query Q { ping } mutation M { touch }"
    context = FakeContext(token_actor(Scope.READ))
    allowed = await SCHEMA.execute(document, context_value=context, operation_name="Q")
    assert allowed.errors is None
    refused = await SCHEMA.execute(document, context_value=context, operation_name="M")
    assert_missing(refused.errors, "WRITE")
    assert context.calls == ["query"]


@pytest.mark.parametrize(
    ("scopes", "allowed"),
    [((Scope.SUBSCRIBE,), True), ((Scope.READ, Scope.WRITE), False)],
)
async def test_subscriptions_need_subscribe(scopes: tuple[Scope, ...], allowed: bool) -> None:
    results, calls = await subscribe(token_actor(*scopes))
    if allowed:
        assert [r.data for r in results] == [{"ticks": 1}] and calls == ["subscription"]
    else:
        assert len(results) == 1 and calls == []
        assert_missing(results[0].errors, "SUBSCRIBE")


async def test_sessions_are_not_narrowed() -> None:
    session = Actor(user_id=uuid.uuid4(), scopes=ALL_SCOPES, via="jwt")
    result, calls = await run(session, "mutation { touch }")
    assert result.errors is None and calls == ["mutation"]


@pytest.mark.parametrize(
    "query",
    [
        "{ me }",
        "{ __typename me }",
        "{ __schema { queryType { name } } }",
        "query { ...F } fragment F on Query { me }",
    ],
)
async def test_anonymous_callers_may_read_me_and_the_schema(query: str) -> None:
    result, _ = await run(Actor.anonymous(), query)
    assert result.errors is None, result.errors


@pytest.mark.parametrize(
    "query",
    [
        "mutation { touch }",
        "{ ping }",
        "{ me ping }",
        "query { ...F } fragment F on Query { ping }",
        "query { ... on Query { ping } }",
    ],
)
async def test_anonymous_callers_get_unauthenticated_for_anything_else(query: str) -> None:
    result, calls = await run(Actor.anonymous(), query)
    assert calls == []  # no resolver ran
    assert result.errors and len(result.errors) == 1
    assert result.errors[0].extensions == {"code": "UNAUTHENTICATED", "reason": "anonymous"}
