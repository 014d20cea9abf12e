"""``ShareLink`` and ``NewShareLink``: read-only URLs to one node for people outside LifeOS."""

from __future__ import annotations

from datetime import datetime

import strawberry

from lifeos_gql.core.ids import encode_global_id
from lifeos_gql.domains.share_links.models import SharedNodeType
from lifeos_gql.domains.share_links.models import ShareLink as ShareLinkModel

# GraphQL type names of the nodes a link can point at.
NODE_TYPE_NAMES = {
    SharedNodeType.CAPTURE: "Capture",
    SharedNodeType.INSIGHT: "Insight",
    SharedNodeType.CONCEPT: "Concept",
}
SHAREABLE = {name: node_type for node_type, name in NODE_TYPE_NAMES.items()}


def share_url(public_base_url: str, token: str) -> str:
    """The link's URL: ``GET /v1/share/{token}`` (see ``lifeos_gql.rest.share_links``)."""
    return f"{public_base_url}/v1/share/{token}"


@strawberry.type(description="A read-only link to one node (never its URL after creation).")
class ShareLink:
    id: strawberry.ID
    node_id: strawberry.ID = strawberry.field(description="The shared Capture, Insight or Concept.")
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None = strawberry.field(
        description="When it was last opened (updated at most once a minute)."
    )

    @classmethod
    def from_model(cls, model: ShareLinkModel) -> ShareLink:
        return cls(
            id=strawberry.ID(encode_global_id("ShareLink", model.id)),
            node_id=strawberry.ID(
                encode_global_id(NODE_TYPE_NAMES[model.node_type], model.node_id)
            ),
            created_at=model.created_at,
            expires_at=model.expires_at,
            revoked_at=model.revoked_at,
            last_used_at=model.last_used_at,
        )


@strawberry.type(description="A new share link. `url` is shown this once: copy it now.")
class NewShareLink:
    url: str = strawberry.field(
        description="Anyone with this URL can read the node, and its lineage you can see, "
        "until it expires or you revoke it. It cannot be shown again."
    )
    share_link: ShareLink
