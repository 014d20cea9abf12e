"""Who may manage credentials: interactive sessions only.

A token must never mint or manage tokens: a leaked one could otherwise
outlive its own revocation by creating a successor.
"""

from __future__ import annotations

from lifeos_gql.core.actor import Actor

TOKEN_CREDENTIALS = frozenset({"api-token", "ingest-token"})


def is_interactive(actor: Actor) -> bool:
    """True for a signed-in session (a JWT), False for any token credential."""
    return (
        actor.user_id is not None
        and actor.via not in TOKEN_CREDENTIALS
        and actor.token_id is None
        and actor.stream_id is None
    )
