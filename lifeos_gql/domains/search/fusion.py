"""Reciprocal rank fusion and the opaque cursor over the fused ranking (pure)."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Mapping, Sequence
from typing import Final

import orjson

from lifeos_gql.core.errors import BadInput
from lifeos_gql.domains.search.models import NodeKey, RankedKey, SearchNodeType, Signal

#: The constant of Cormack et al. (2009): damps the weight of the very top ranks.
RRF_K: Final = 60


def fuse(legs: Mapping[Signal, Sequence[NodeKey]], k: int = RRF_K) -> list[RankedKey]:
    """Fuse ranked lists: score = sum over lists of 1 / (k + rank), rank from 1.

    Ties are broken by node type then id, so the order is total and a cursor
    names one position in it.
    """
    scores: dict[NodeKey, float] = {}
    signals: dict[NodeKey, list[Signal]] = {}
    for signal, ranked in legs.items():
        for rank, key in enumerate(dict.fromkeys(ranked), start=1):
            scores[key] = scores.get(key, 0.0) + 1.0 / (k + rank)
            signals.setdefault(key, []).append(signal)
    fused = [RankedKey(key, score, tuple(signals[key])) for key, score in scores.items()]
    fused.sort(key=sort_key)
    return fused


def sort_key(item: RankedKey) -> tuple[float, str, str]:
    return (-item.score, item.key.node_type.value, str(item.key.id))


def encode_cursor(item: RankedKey) -> str:
    """Opaque position: the fused score (exact, via repr) and the node key."""
    raw = orjson.dumps([repr(item.score), item.key.node_type.value, str(item.key.id)])
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str) -> tuple[float, str, str]:
    """The sort key the cursor names; ``BadInput`` if it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        score, node_type, node_id = orjson.loads(raw)
        SearchNodeType(node_type)
        return (-float(score), node_type, str(uuid.UUID(node_id)))
    except (binascii.Error, ValueError, TypeError, orjson.JSONDecodeError) as exc:
        raise BadInput("Malformed cursor", field="after") from exc


def page_after(
    fused: Sequence[RankedKey], after: str | None, first: int
) -> tuple[list[RankedKey], bool]:
    """The ``first`` items strictly after the cursor's position, and whether more follow."""
    rest = list(fused)
    if after is not None:
        position = decode_cursor(after)
        rest = [item for item in rest if sort_key(item) > position]
    return rest[:first], len(rest) > first
