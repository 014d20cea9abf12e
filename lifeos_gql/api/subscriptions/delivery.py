"""Share one execution of an event among identical subscriptions.

Many subscriptions often run the same document with the same variables for
the same subscriber identity (tabs, devices, widgets). For one event their
results are equal, so the first one to execute stores its ``next`` payload
on the event's scope and the others send that payload instead of executing
the selection again.

Task-local state (context variables; each operation runs in its own task,
and async generators run in their caller's context): the handler names the
running operation; the resolver marks the delivery being executed; the
handler's ``send_message`` stores the executed payload.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from lifeos_gql.api.subscriptions.dispatcher import EventScope


@dataclass(frozen=True, slots=True)
class RunningOperation:
    """The WebSocket operation a task runs: its id, its key, and how to send."""

    id: str
    key: object  # (query, variables, operation name)
    send: Callable[[dict[str, Any]], Awaitable[None]]


OPERATION: ContextVar[RunningOperation | None] = ContextVar("lifeos_ws_operation", default=None)
_EXECUTING: ContextVar[EventScope | None] = ContextVar("lifeos_ws_executing", default=None)


async def send_shared(scope: EventScope) -> bool:
    """Send the payload an identical operation already executed for this event."""
    operation = OPERATION.get()
    if operation is None:
        return False
    payload = scope.results.get(operation.key)
    if payload is None:
        _EXECUTING.set(scope)  # this operation executes it; the handler stores it
        return False
    await operation.send({"id": operation.id, "type": "next", "payload": payload})
    return True


def executed(message: dict[str, Any]) -> None:
    """Called by the handler for each message it sends: keep an executed result."""
    scope = _EXECUTING.get()
    operation = OPERATION.get()
    if scope is None or operation is None:
        return
    _EXECUTING.set(None)
    if message.get("type") != "next":
        return
    payload = message.get("payload")
    # Errors may depend on more than the identity: never shared.
    if isinstance(payload, dict) and not payload.get("errors"):
        scope.results.setdefault(operation.key, payload)
