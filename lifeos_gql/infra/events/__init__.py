"""The event bus: tells every server process that new ``events`` rows committed.

A message carries only the highest new event id; listeners read the rows
from the table (so a lost or coalesced message loses nothing). Three
implementations behind :class:`EventBus`: Redis pub/sub (``REDIS_URL``),
Postgres ``LISTEN/NOTIFY``, and in-process (one process only).
"""

from lifeos_gql.infra.events.base import EventBus, EventCallback
from lifeos_gql.infra.events.factory import build_event_bus

__all__ = ["EventBus", "EventCallback", "build_event_bus"]
