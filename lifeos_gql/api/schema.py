"""The GraphQL schema, with its guard rails configured from settings."""

from __future__ import annotations

from collections.abc import Callable

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from lifeos_gql.api.bulk import install_bulk_resolvers
from lifeos_gql.api.errors import ErrorShaping, MaskedErrorShaping
from lifeos_gql.api.resolvers.mutation import Mutation
from lifeos_gql.api.resolvers.query import Query
from lifeos_gql.api.scalars import SCALAR_MAP
from lifeos_gql.api.scopes import ScopeCheck
from lifeos_gql.api.subscriptions.resolvers import Subscription
from lifeos_gql.api.types.capture import Capture
from lifeos_gql.api.types.concept import Concept
from lifeos_gql.api.types.edge import Edge
from lifeos_gql.api.types.insight import Insight
from lifeos_gql.api.types.stream import Stream
from lifeos_gql.api.types.user import User
from lifeos_gql.config import Settings


class LifeOSSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Stay quiet: ``ErrorShaping`` already logged the unexpected ones.

        Strawberry's default logs every error with a traceback, including a
        user's typo or a NOT_FOUND, which drowns the real failures.
        """


def _shared_rules(template: AddValidationRules) -> Callable[[], SchemaExtension]:
    """A factory of extensions running ``template``'s validation rules."""
    rules = template.validation_rules
    return lambda: AddValidationRules(rules)


def build_schema(settings: Settings) -> strawberry.Schema:
    extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = [
        lambda: ParserCache(maxsize=512),
        lambda: ValidationCache(maxsize=512),
        # These two build a validation-rule class per instance; build it once
        # (an operation's extensions live as long as a subscription does).
        _shared_rules(QueryDepthLimiter(max_depth=settings.lifeos_max_query_depth)),
        lambda: MaxTokensLimiter(max_token_count=settings.lifeos_max_query_tokens),
        _shared_rules(MaxAliasesLimiter(max_alias_count=settings.lifeos_max_aliases)),
        MaskedErrorShaping if settings.is_prod else ErrorShaping,
        ScopeCheck,
    ]
    schema = LifeOSSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[User, Stream, Capture, Insight, Concept, Edge],
        extensions=extensions,
        config=StrawberryConfig(disable_field_suggestions=settings.is_prod, scalar_map=SCALAR_MAP),
    )
    install_bulk_resolvers(schema)
    return schema


def default_schema() -> strawberry.Schema:
    """The schema with default settings: what ``schema.graphql`` records."""
    return build_schema(Settings(_env_file=None))
