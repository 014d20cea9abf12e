"""Token scopes, enforced once per GraphQL operation.

A query needs READ, a mutation WRITE, a subscription SUBSCRIBE. Signed-in
sessions carry every scope; API tokens carry the ones they were given.
Anonymous callers may read ``me`` (null for them) and the schema itself;
any other root field makes the whole operation UNAUTHENTICATED, so no
resolver ever runs for a caller who could see nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from lifeos_gql.core.actor import Actor, Scope
from lifeos_gql.core.errors import Forbidden, Unauthenticated

REQUIRED_SCOPE = {
    OperationType.QUERY: Scope.READ,
    OperationType.MUTATION: Scope.WRITE,
    OperationType.SUBSCRIPTION: Scope.SUBSCRIBE,
}


def missing_scope(actor: Actor, operation: OperationType) -> Scope | None:
    """The scope ``actor`` lacks for ``operation``, or None when it may run it."""
    if not actor.is_authenticated:
        return None
    required = REQUIRED_SCOPE[operation]
    return None if required in actor.scopes else required


# Root fields an anonymous caller may select.
ANONYMOUS_ROOT_FIELDS = frozenset({"me", "__typename", "__schema", "__type"})


def root_field_names(
    selection_set: SelectionSetNode, fragments: dict[str, SelectionSetNode]
) -> set[str]:
    """Names of the root fields an operation selects, through fragments."""
    names: set[str] = set()
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            names.add(selection.name.value)
        elif isinstance(selection, InlineFragmentNode):
            names |= root_field_names(selection.selection_set, fragments)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                names |= root_field_names(fragment, fragments)
    return names


def _unauthenticated() -> GraphQLError:
    original = Unauthenticated("Sign in to do this", reason="anonymous")
    return GraphQLError(
        original.message, original_error=original, extensions=original.as_extensions()
    )


def _forbidden(scope: Scope) -> GraphQLError:
    original = Forbidden(
        f"This token lacks the {scope.value.upper()} scope", reason="missing_scope"
    )
    original.extensions["scope"] = scope.value.upper()
    # Extensions set here too: a subscription's error may be sent before the
    # error-shaping extension gets to it.
    return GraphQLError(
        original.message, original_error=original, extensions=original.as_extensions()
    )


class ScopeCheck(SchemaExtension):
    """Refuse the executed operation when the credential lacks its scope."""

    def on_execute(self) -> Iterator[None]:
        actor = getattr(self.execution_context.context, "actor", None)
        if isinstance(actor, Actor):
            operation = self.execution_context.operation_type
            scope = missing_scope(actor, operation)
            error: GraphQLError | None = None
            if scope is not None:
                error = _forbidden(scope)
            elif not actor.is_authenticated and not self._anonymous_may_run():
                error = _unauthenticated()
            if error is not None:
                if operation is OperationType.SUBSCRIPTION:
                    # The subscription path ignores a preset result; it turns an
                    # exception raised here into an error result instead.
                    raise error
                # Queries and mutations skip execution when a result is set.
                self.execution_context.result = ExecutionResult(data=None, errors=[error])
        yield

    def _anonymous_may_run(self) -> bool:
        document = self.execution_context.graphql_document
        if document is None:
            return True  # nothing parsed: validation reports it
        name = self.execution_context.operation_name
        operations = [
            d
            for d in document.definitions
            if isinstance(d, OperationDefinitionNode)
            and (name is None or (d.name is not None and d.name.value == name))
        ]
        fragments = {
            d.name.value: d.selection_set
            for d in document.definitions
            if isinstance(d, FragmentDefinitionNode)
        }
        if len(operations) != 1:
            return True  # ambiguous or unknown operation: execution reports it
        fields = root_field_names(operations[0].selection_set, fragments)
        return fields <= ANONYMOUS_ROOT_FIELDS
