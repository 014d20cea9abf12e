"""Depth, token and alias limits; masking and suggestions in prod."""

from __future__ import annotations

import pytest

from lifeos_gql.api.schema import build_schema
from tests.conftest import make_settings
from tests.helpers import error_codes, gql


async def test_alias_limit(client, settings):
    aliases = " ".join(f"a{i}: me {{ id }}" for i in range(settings.lifeos_max_aliases + 1))
    body = await gql(client, "{ " + aliases + " }")
    assert "data" not in body or body.get("data") is None
    assert error_codes(body)[0] == "GRAPHQL_VALIDATION_FAILED"


async def test_token_limit(client, settings):
    fields = " ".join("__typename" for _ in range(settings.lifeos_max_query_tokens))
    body = await gql(client, "{ " + fields + " }")
    assert body.get("data") is None
    assert "token" in body["errors"][0]["message"].lower()


async def test_depth_limit():
    # Introspection is exempt and today's schema is shallow, so allow only root scalars (depth 0).
    settings = make_settings().model_copy(update={"lifeos_max_query_depth": 0})
    schema = build_schema(settings)
    assert (await schema.execute("{ __typename }")).errors is None
    result = await schema.execute("{ me { id } }")
    assert result.errors is not None
    assert "exceeds maximum operation depth" in result.errors[0].message
    assert result.errors[0].extensions["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_field_suggestions_hidden_in_prod():
    dev = build_schema(make_settings())
    key = __import__("base64").b64encode(b"k" * 32).decode()
    prod = build_schema(
        make_settings(
            lifeos_env="prod",
            database_url="postgresql://x@localhost/x",
            clerk_issuer="https://clerk.example",
            lifeos_master_key=key,
        )
    )
    dev_result = await dev.execute("{ mee { id } }")
    prod_result = await prod.execute("{ mee { id } }")
    assert "Did you mean" in str(dev_result.errors[0])
    assert "Did you mean" not in str(prod_result.errors[0])


@pytest.mark.parametrize("prod", [False, True])
async def test_unexpected_errors_masked_only_in_prod(prod):
    import strawberry

    from lifeos_gql.api.errors import ErrorShaping, MaskedErrorShaping

    @strawberry.type
    class Query:
        @strawberry.field
        def boom(self) -> str:
            raise RuntimeError("secret internals")

    class Ctx:
        request_id = "req-42"

    schema = strawberry.Schema(
        query=Query, extensions=[MaskedErrorShaping if prod else ErrorShaping]
    )
    result = await schema.execute("{ boom }", context_value=Ctx())
    error = result.errors[0]
    assert error.extensions["code"] == "INTERNAL_SERVER_ERROR"
    assert error.extensions["requestId"] == "req-42"
    if prod:
        assert "secret" not in error.message
        assert "req-42" in error.message
    else:
        assert "secret internals" in error.message
