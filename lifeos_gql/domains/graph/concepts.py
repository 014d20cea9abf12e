"""Resolve a capture's extracted concepts to the owner's concept nodes.

Locks only what the mentions could match or create (their normalised
names and match keys, then the candidate nodes found; see
``repository.lock_graph_keys``), so analyses of unrelated captures of one
owner don't wait for each other. One query fetches every plausible
candidate (read again once the candidates are locked), matching happens in
:mod:`.normalise`, and nodes created earlier in the same call are
candidates for later mentions.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from lifeos_gql.db.uow import UnitOfWork
from lifeos_gql.domains.graph import repository
from lifeos_gql.domains.graph.normalise import (
    Candidate,
    choose_concept,
    fold,
    match_key,
    normalise_name,
    specificity,
)
from lifeos_gql.infra.llm.types import ExtractedConcept

MAX_ALIASES = 50


@dataclass(frozen=True, slots=True)
class ResolvedConcept:
    """A mention resolved to a concept node (``created``: made by this call)."""

    id: uuid.UUID
    salience: float
    created: bool


@dataclass(slots=True)
class _Node:
    kind: str
    candidate: Candidate
    dirty: bool = False


def _norm_aliases(name: str, aliases: Sequence[str], kind: str) -> tuple[str, ...]:
    key = normalise_name(name, kind)
    return tuple(dict.fromkeys(k for k in (normalise_name(a, kind) for a in aliases) if k != key))


def _add_names(node: _Node, displays: Sequence[str]) -> None:
    """Record the mention's names on the node; the fullest form becomes its name."""
    kind, cand = node.kind, node.candidate
    name, aliases = cand.name, list(cand.aliases)
    for display in displays:
        if specificity(display, kind) > specificity(name, kind):
            display, name = name, display  # "J. Smith" becomes an alias of "Jane Smith"
        known = {fold(a) for a in (name, *aliases)}
        if fold(display) not in known and len(aliases) < MAX_ALIASES:
            aliases.append(display)
    if name == cand.name and tuple(aliases) == cand.aliases:
        return
    key = normalise_name(name, kind)
    node.candidate = Candidate(
        cand.id, name, key, tuple(aliases), _norm_aliases(name, aliases, kind)
    )
    node.dirty = True


def _order(mention: ExtractedConcept) -> tuple[int, int]:
    # Full names first, so "J. Smith" sees every Smith of this capture too.
    first, second = specificity(mention.name, mention.kind)
    return (-first, -second)


def concept_lock(concept_id: uuid.UUID) -> str:
    """The graph lock key of one concept node (analysis and merges take it)."""
    return f"concept:{concept_id}"


async def resolve_concepts(
    uow: UnitOfWork, owner_id: uuid.UUID, mentions: Sequence[ExtractedConcept]
) -> list[ResolvedConcept]:
    """Find or create the node of every mention; one result per distinct node."""
    if not mentions:
        return []
    named = {(m.kind, normalise_name(n, m.kind)) for m in mentions for n in (m.name, *m.aliases)}
    matched = {(m.kind, k) for m in mentions if (k := match_key(m.name, m.kind)) is not None}
    # Another analysis that could create or rename a node these mentions
    # would match shares one of these keys, so it waits (and vice versa).
    await repository.lock_graph_keys(
        uow,
        owner_id,
        [f"name:{kind}:{key}" for kind, key in named]
        + [f"match:{kind}:{key}" for kind, key in matched],
    )
    kinds = sorted({m.kind for m in mentions})
    keys = sorted({key for _, key in named})
    near = sorted({key for _, key in matched})
    rows = await repository.concept_candidates(uow, owner_id, kinds, keys, near)
    if rows:
        # A node found through another of its names may be changing under a
        # disjoint set of keys: lock the nodes too, then read them again.
        await repository.lock_graph_keys(uow, owner_id, [concept_lock(r.id) for r in rows])
        rows = await repository.concept_candidates(uow, owner_id, kinds, keys, near)
    nodes: dict[uuid.UUID, _Node] = {
        r.id: _Node(
            r.kind,
            Candidate(
                r.id, r.name, r.normalized_name, tuple(r.aliases), tuple(r.normalized_aliases)
            ),
        )
        for r in rows
    }
    resolved: dict[uuid.UUID, ResolvedConcept] = {}
    for mention in sorted(mentions, key=_order):
        kind = mention.kind
        pool = [n.candidate for n in nodes.values() if n.kind == kind]
        found = choose_concept(mention.name, mention.aliases, kind, pool)
        if found is not None:
            _add_names(nodes[found.id], [mention.name, *mention.aliases])
            concept_id, created = found.id, False
        else:
            key = normalise_name(mention.name, kind)
            aliases = [a for a in dict.fromkeys(mention.aliases) if fold(a) != fold(mention.name)]
            norm = _norm_aliases(mention.name, aliases, kind)
            concept_id, created = await repository.insert_concept(
                uow,
                owner_id=owner_id,
                kind=kind,
                name=mention.name,
                key=key,
                aliases=aliases,
                normalized_aliases=norm,
                match_key=match_key(mention.name, kind),
            )
            if concept_id not in nodes:
                nodes[concept_id] = _Node(
                    kind, Candidate(concept_id, mention.name, key, tuple(aliases), norm)
                )
        previous = resolved.get(concept_id)
        salience = max(mention.salience, previous.salience if previous else 0.0)
        resolved[concept_id] = ResolvedConcept(
            concept_id, salience, created or bool(previous and previous.created)
        )
    for concept_id, node in nodes.items():
        if node.dirty:
            cand = node.candidate
            await repository.update_concept_names(
                uow,
                concept_id,
                name=cand.name,
                key=cand.normalized_name,
                aliases=cand.aliases,
                normalized_aliases=cand.normalized_aliases,
                match_key=match_key(cand.name, node.kind),
            )
    return list(resolved.values())
