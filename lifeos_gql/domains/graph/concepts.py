"""Resolve captures' extracted concepts to the owner's concept nodes.

Locks only what the mentions could create or change (their normalised
names and match keys, then the candidate nodes found; see
``repository.lock_graph_keys``), so analyses of unrelated captures of one
owner don't wait for each other, and a mention that names a node exactly
and adds nothing to it takes no lock at all (:func:`resolve_batch`). One
query fetches every plausible candidate (read again once the candidates
are locked), matching happens in :mod:`.normalise`, and nodes created
earlier in the same call are candidates for later mentions.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

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


def _renamed(node: _Node, displays: Sequence[str]) -> Candidate | None:
    """The node's candidate with the mention's names recorded (the fullest form
    becomes its name), or None when it knows them all already."""
    kind, cand = node.kind, node.candidate
    name, aliases = cand.name, list(cand.aliases)
    for display in displays:
        if specificity(display, kind) > specificity(name, kind):
            display, name = name, display  # "J. Smith" becomes an alias of "Jane Smith"
        known = {fold(a) for a in (name, *aliases)}
        if fold(display) not in known and len(aliases) < MAX_ALIASES:
            aliases.append(display)
    if name == cand.name and tuple(aliases) == cand.aliases:
        return None
    key = normalise_name(name, kind)
    return Candidate(cand.id, name, key, tuple(aliases), _norm_aliases(name, aliases, kind))


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
    """Find or create the node of every mention; one result per distinct node.

    Every name, match key and node involved stays locked until the caller
    commits, so the result may be written in this same transaction.
    """
    return (await _resolve_locked(uow, owner_id, [(0, m) for m in mentions], 1))[0]


async def resolve_batch(
    uow: UnitOfWork, owner_id: uuid.UUID, mentions: Sequence[Sequence[ExtractedConcept]]
) -> list[list[ResolvedConcept]]:
    """Resolve several captures' mentions at once; one result list per capture.

    For a transaction of its own, committed before the graph write, which
    must share-lock the nodes and check they are still live (a merge may
    have absorbed one since), as ``apply_analysis`` does with ``concepts``.

    A mention whose name is exactly a live node's normalised name, and whose
    names that node already knows, changes nothing: it is resolved from one
    unlocked read. The key is unique per (owner, kind), so that node is the
    answer whatever else runs at the same time (a concurrent rename keeps
    the old name as an alias; a merge is caught by the writer's check). Only
    the other mentions, which may create or rename nodes, take the locks,
    all together in one sorted acquisition.
    """
    resolved: list[dict[uuid.UUID, ResolvedConcept]] = [{} for _ in mentions]
    flat = [(i, m) for i, capture in enumerate(mentions) for m in capture]
    if not flat:
        return [[] for _ in mentions]
    kinds = sorted({m.kind for _, m in flat})
    keys = sorted({normalise_name(m.name, m.kind) for _, m in flat})
    rows = await repository.concept_candidates(uow, owner_id, kinds, keys, [])
    exact = {(r.kind, r.normalized_name): _node(r) for r in rows}
    slow: list[tuple[int, ExtractedConcept]] = []
    for index, mention in flat:
        node = exact.get((mention.kind, normalise_name(mention.name, mention.kind)))
        if node is None or _renamed(node, [mention.name, *mention.aliases]) is not None:
            slow.append((index, mention))
        else:
            _note(resolved[index], node.candidate.id, mention.salience, created=False)
    if slow:
        locked = await _resolve_locked(uow, owner_id, slow, len(mentions))
        for index, found in enumerate(locked):
            for concept in found:
                _note(resolved[index], concept.id, concept.salience, created=concept.created)
    return [list(r.values()) for r in resolved]


def _node(row: Any) -> _Node:
    return _Node(
        row.kind,
        Candidate(
            row.id, row.name, row.normalized_name, tuple(row.aliases), tuple(row.normalized_aliases)
        ),
    )


def _note(
    into: dict[uuid.UUID, ResolvedConcept], concept_id: uuid.UUID, salience: float, *, created: bool
) -> None:
    """One result per node and capture: the strongest salience; created if any mention made it."""
    previous = into.get(concept_id)
    if previous is not None:
        salience = max(salience, previous.salience)
        created = created or previous.created
    into[concept_id] = ResolvedConcept(concept_id, salience, created)


async def _resolve_locked(
    uow: UnitOfWork,
    owner_id: uuid.UUID,
    mentions: Sequence[tuple[int, ExtractedConcept]],
    captures: int,
) -> list[list[ResolvedConcept]]:
    """Resolve (capture index, mention) pairs under name and node locks; results per capture."""
    resolved: list[dict[uuid.UUID, ResolvedConcept]] = [{} for _ in range(captures)]
    if not mentions:
        return [[] for _ in range(captures)]
    named = {(m.kind, normalise_name(n, m.kind)) for _, m in mentions for n in (m.name, *m.aliases)}
    matched = {(m.kind, k) for _, m in mentions if (k := match_key(m.name, m.kind)) is not None}
    # Another analysis that could create or rename a node these mentions
    # would match shares one of these keys, so it waits (and vice versa).
    await repository.lock_graph_keys(
        uow,
        owner_id,
        [f"name:{kind}:{key}" for kind, key in named]
        + [f"match:{kind}:{key}" for kind, key in matched],
    )
    kinds = sorted({m.kind for _, m in mentions})
    keys = sorted({key for _, key in named})
    near = sorted({key for _, key in matched})
    rows = await repository.concept_candidates(uow, owner_id, kinds, keys, near)
    if rows:
        # A node found through another of its names may be changing under a
        # disjoint set of keys: lock the nodes too, then read them again.
        await repository.lock_graph_keys(uow, owner_id, [concept_lock(r.id) for r in rows])
        rows = await repository.concept_candidates(uow, owner_id, kinds, keys, near)
    nodes: dict[uuid.UUID, _Node] = {r.id: _node(r) for r in rows}
    # Stable: a batch keeps its captures' order among equally full names.
    for index, mention in sorted(mentions, key=lambda im: _order(im[1])):
        kind = mention.kind
        pool = [n.candidate for n in nodes.values() if n.kind == kind]
        found = choose_concept(mention.name, mention.aliases, kind, pool)
        if found is not None:
            node = nodes[found.id]
            renamed = _renamed(node, [mention.name, *mention.aliases])
            if renamed is not None:
                node.candidate, node.dirty = renamed, True
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
        _note(resolved[index], concept_id, mention.salience, created=created)
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
    return [list(r.values()) for r in resolved]
