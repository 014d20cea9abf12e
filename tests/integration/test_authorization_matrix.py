"""Authorisation matrix: every field × seven principals, generated from the schema.

See ``authz_matrix`` for the principals and rules. Queries run against one
fixture world; each mutation runs in its own copy of that world (a template
clone), principals in deny-first order, so no cell depends on another
mutation having run.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
    is_leaf_type,
    is_non_null_type,
)
from jose import jwt

from lifeos_gql.api.schema import default_schema
from lifeos_gql.app import create_app
from lifeos_gql.core.clock import utcnow
from lifeos_gql.core.ids import decode_global_id
from lifeos_gql.infra.auth.dev_issuer import DEV_ISSUER, DevIssuer, dev_subject
from lifeos_gql.jobs import pipeline
from lifeos_gql.jobs.services import open_analysis_services
from tests.conftest import clone_database, drop_database, make_settings
from tests.helpers import dev_token, gql
from tests.integration.authz_matrix import (
    PRINCIPALS,
    Enum_,
    Mine,
    Principal,
    Rule,
    W,
    allowed,
    arguments,
)

R, C, OWN, S, SELF = Rule.READER, Rule.COLLABORATOR, Rule.OWNER, Rule.SIGNED_IN, Rule.SELF
DENY_CODES = {"FORBIDDEN", "UNAUTHENTICATED", "NOT_FOUND"}

# ---------------------------------------------------------------- routes
# How to reach one fixture instance of each object type; ``{sel}`` is the
# probed field. The rule of a cell is the probed field's rule (a field of an
# object is never more open than reading the object: READER at least).
ROUTES: dict[str, list[str]] = {
    "Query": ["{sel}"],
    # A User's fields, on yourself and on another person (the stream's owner).
    "User": ["me {{ {sel} }}", "stream(id: {stream}) {{ owner {{ {sel} }} }}"],
    "Stream": ["stream(id: {stream}) {{ {sel} }}"],
    "Capture": ["node(id: {capture}) {{ ... on Capture {{ {sel} }} }}"],
    "Insight": ["node(id: {insight}) {{ ... on Insight {{ {sel} }} }}"],
    "Concept": ["node(id: {concept}) {{ ... on Concept {{ {sel} }} }}"],
    "Edge": ["node(id: {capture}) {{ ... on Capture {{ edges(first: 1) {{ {sel} }} }} }}"],
    "CaptureConnection": ["stream(id: {stream}) {{ captures(first: 5) {{ {sel} }} }}"],
    "CaptureEdge": ["stream(id: {stream}) {{ captures(first: 5) {{ edges {{ {sel} }} }} }}"],
    "PageInfo": ["stream(id: {stream}) {{ captures(first: 5) {{ pageInfo {{ {sel} }} }} }}"],
    "InsightConnection": ["stream(id: {stream}) {{ insights(first: 5) {{ {sel} }} }}"],
    "InsightEdge": ["stream(id: {stream}) {{ insights(first: 5) {{ edges {{ {sel} }} }} }}"],
    "StreamConnection": ["me {{ streams(first: 5) {{ {sel} }} }}"],
    "StreamEdge": ["me {{ streams(first: 5) {{ edges {{ {sel} }} }} }}"],
    "SearchConnection": ['search(query: "garden") {{ {sel} }}'],
    "SearchEdge": ['search(query: "garden") {{ edges {{ {sel} }} }}'],
    "Subgraph": ["neighbors(id: {capture}) {{ {sel} }}"],
    "Grant": ["stream(id: {stream}) {{ grants {{ {sel} }} }}"],
    "Persona": ["stream(id: {stream}) {{ personas {{ {sel} }} }}"],
    "PersonaShare": ["stream(id: {stream}) {{ personas {{ shares {{ {sel} }} }} }}"],
    # Alice's private things, reached through her User as the stream's owner.
    "ApiToken": ["stream(id: {stream}) {{ owner {{ apiTokens {{ {sel} }} }} }}"],
    "ShareLink": ["stream(id: {stream}) {{ owner {{ shareLinks {{ {sel} }} }} }}"],
    "Export": ["stream(id: {stream}) {{ owner {{ exports {{ {sel} }} }} }}"],
    "AuditLogConnection": ["stream(id: {stream}) {{ owner {{ auditLog(first: 5) {{ {sel} }} }} }}"],
    "AuditEntryEdge": [
        "stream(id: {stream}) {{ owner {{ auditLog(first: 5) {{ edges {{ {sel} }} }} }} }}"
    ],
    "AuditEntry": [
        "stream(id: {stream}) {{ owner {{ auditLog(first: 5) {{ nodes {{ {sel} }} }} }} }}"
    ],
}

# Types only mutations return: their fields are selected by those mutations
# and share their cells.
PAYLOAD_TYPES = {
    "CaptureBatchPayload",
    "CaptureResult",
    "ItemError",
    "DeletePayload",
    "NewIngestToken",
    "NewApiToken",
    "NewShareLink",
    "ErasureReceipt",
    "TableCount",
}
# Types only subscriptions return: their visibility is tested per event by
# the subscription tests (tests/integration/test_subscriptions*.py).
SUBSCRIPTION_TYPES = {"InsightEvent", "GraphEvent", "CaptureAnalyzedEvent"}

# ---------------------------------------------------------------- classification
QUERY_FIELDS: dict[str, Rule] = {
    "me": S,
    "timeline": S,
    "search": S,
    "stream": R,
    "node": R,
    "nodes": R,
    "neighbors": R,
    "path": R,
    "concept": R,
}
QUERY_ARGS: dict[str, dict[str, Any]] = {
    "stream": {"id": W("stream")},
    "node": {"id": W("capture")},
    "nodes": {"ids": [W("capture")]},
    "neighbors": {"id": W("capture")},
    "path": {"from": W("capture"), "to": W("capture2")},
    "concept": {"name": W("concept_name")},
    "search": {"query": "garden"},
}
# Probes whose denial shows as emptiness, exactly like a missing id.
EMPTY_MEANS_HIDDEN = {"Query.neighbors", "Query.nodes"}
# Codes that answer a refused cell besides FORBIDDEN / UNAUTHENTICATED / NOT_FOUND.
EXTRA_DENY_CODES = {
    # The owner can't leave their own stream: a clear input error, not a permission one.
    ("Mutation.leaveStream", Principal.OWNER): {"BAD_USER_INPUT"},
}
PROBE_SELECTION = {"Query.neighbors": "{ nodes { id } }", "Query.nodes": "{ id }"}

READ_ALL = dict.fromkeys
OBJECT_FIELDS: dict[str, dict[str, Rule]] = {
    "User": {
        **READ_ALL(["id", "email", "name", "createdAt"], R),
        **READ_ALL(["streams", "apiTokens", "shareLinks", "personas", "exports", "auditLog"], SELF),
    },
    "Stream": {
        **READ_ALL(["id", "name", "source", "createdAt", "owner", "myRole", "captures"], R),
        "insights": R,
        "grants": OWN,
        "personas": OWN,
    },
    "Capture": {
        **READ_ALL(
            [
                "id",
                "occurredAt",
                "capturedAt",
                "title",
                "content",
                "externalId",
                "sizeBytes",
                "analysisStatus",
                "analysisError",
                "similar",
                "stream",
                "insights",
                "concepts",
                "edges",
            ],
            R,
        ),
        "data": C,
    },
    "Insight": READ_ALL(
        ["id", "kind", "text", "confidence", "producer", "generatedAt", "supersededAt", "sources"],
        R,
    ),
    "Concept": READ_ALL(["id", "name", "kind", "aliases", "mentions"], R),
    "Edge": READ_ALL(
        [
            "id",
            "relation",
            "weight",
            "evidence",
            "producer",
            "validFrom",
            "validTo",
            "recordedAt",
            "supersededAt",
            "from",
            "to",
        ],
        R,
    ),
    "CaptureConnection": READ_ALL(["edges", "pageInfo", "nodes"], R),
    "CaptureEdge": READ_ALL(["cursor", "node"], R),
    "PageInfo": READ_ALL(["hasNextPage", "endCursor"], R),
    "InsightConnection": READ_ALL(["edges", "pageInfo", "nodes"], R),
    "InsightEdge": READ_ALL(["cursor", "node"], R),
    "StreamConnection": READ_ALL(["edges", "pageInfo", "nodes"], S),
    "StreamEdge": READ_ALL(["cursor", "node"], S),
    # Search is about the caller's own world: a stranger searches theirs.
    "SearchConnection": READ_ALL(["edges", "pageInfo", "nodes"], S),
    "SearchEdge": READ_ALL(["cursor", "score", "snippet", "matchedBy", "node"], R),
    "Subgraph": READ_ALL(["nodes", "edges"], S),
    "Grant": READ_ALL(
        ["id", "role", "pending", "createdAt", "invitedEmail", "grantee", "stream", "persona"], OWN
    ),
    "Persona": READ_ALL(["id", "name", "createdAt", "streams", "shares"], OWN),
    "PersonaShare": READ_ALL(
        ["id", "role", "pending", "createdAt", "invitedEmail", "grantee", "persona"], OWN
    ),
    "ApiToken": READ_ALL(
        ["id", "name", "prefix", "scopes", "createdAt", "expiresAt", "revokedAt", "lastUsedAt"],
        SELF,
    ),
    "ShareLink": READ_ALL(
        ["id", "nodeId", "createdAt", "expiresAt", "revokedAt", "lastUsedAt"], SELF
    ),
    "Export": READ_ALL(
        ["id", "status", "createdAt", "readyAt", "expiresAt", "sizeBytes", "error", "downloadUrl"],
        SELF,
    ),
    "AuditLogConnection": READ_ALL(["edges", "pageInfo", "nodes"], SELF),
    "AuditEntryEdge": READ_ALL(["cursor", "node"], SELF),
    "AuditEntry": READ_ALL(
        ["seq", "occurredAt", "action", "targetType", "targetId", "details", "actorIsYou"], SELF
    ),
}
# Fields whose value may be null for an allowed reader in the fixture.
NULLABLE_WHEN_ALLOWED = {
    "Capture.externalId",
    "Capture.analysisError",
    "Insight.supersededAt",
    "Edge.validFrom",
    "Edge.validTo",
    "Edge.supersededAt",
    "Edge.evidence",
    "User.name",
    "PageInfo.endCursor",
    "SearchEdge.snippet",
    "Grant.invitedEmail",
    "Grant.persona",
    "PersonaShare.grantee",
    "ApiToken.expiresAt",
    "ApiToken.revokedAt",
    "ApiToken.lastUsedAt",
    "ShareLink.revokedAt",
    "ShareLink.lastUsedAt",
    "Export.readyAt",
    "Export.expiresAt",
    "Export.sizeBytes",
    "Export.error",
    "Export.downloadUrl",
    "AuditEntry.targetType",
    "AuditEntry.targetId",
}

MUTATIONS: dict[str, tuple[Rule, dict[str, Any]]] = {
    "createStream": (S, {"input": {"name": "New", "source": Enum_("NOTE")}}),
    "renameStream": (OWN, {"id": W("stream"), "name": "Renamed"}),
    "deleteStream": (OWN, {"id": W("stream")}),
    "capture": (C, {"input": {"streamId": W("stream"), "content": "another note"}}),
    "captureBatch": (C, {"inputs": [{"streamId": W("stream"), "content": "batch note"}]}),
    "requestAnalysis": (C, {"captureIds": [W("capture")]}),
    "createIngestToken": (C, {"streamId": W("stream"), "name": "phone"}),
    "revokeIngestToken": (OWN, {"id": W("ingest_token")}),
    "linkNodes": (C, {"from": W("capture"), "to": W("capture2"), "relation": "SEE_ALSO"}),
    "unlinkNodes": (C, {"edgeId": W("edge")}),
    # Concepts are the owner's whole graph: merging is theirs alone.
    "mergeConcepts": (OWN, {"ids": [W("concept"), W("concept2")]}),
    "createApiToken": (S, {"name": "tool", "scopes": [Enum_("READ")]}),
    "revokeApiToken": (OWN, {"id": W("api_token")}),
    "createShareLink": (R, {"nodeId": W("capture"), "expiresIn": 3600}),
    "revokeShareLink": (OWN, {"id": W("share_link")}),
    "shareStream": (
        OWN,
        {"streamId": W("stream"), "email": "newbie@example.com", "role": Enum_("VIEWER")},
    ),
    "changeRole": (OWN, {"grantId": W("viewer_grant"), "role": Enum_("COLLABORATOR")}),
    "revokeGrant": (OWN, {"id": W("viewer_grant")}),
    "transferOwnership": (OWN, {"streamId": W("stream"), "email": "carol@example.com"}),
    "leaveStream": (Rule.GRANTEE, {"streamId": W("stream")}),
    "createPersona": (S, {"name": "Side project"}),
    "renamePersona": (OWN, {"id": W("persona"), "name": "Hobbies"}),
    "deletePersona": (OWN, {"id": W("persona")}),
    "addStreamToPersona": (OWN, {"personaId": W("persona"), "streamId": W("stream2")}),
    "removeStreamFromPersona": (OWN, {"personaId": W("persona"), "streamId": W("stream")}),
    "sharePersona": (
        OWN,
        {"personaId": W("persona"), "email": "newbie@example.com", "role": Enum_("VIEWER")},
    ),
    "unsharePersona": (OWN, {"id": W("persona_share")}),
    "exportMyData": (S, {}),
    # Each principal confirms with its own email (``ERASE <email>``).
    "eraseMyAccount": (S, {"confirm": Mine("confirm")}),
}


# ---------------------------------------------------------------- the world
EMAILS = {
    Principal.OWNER: "alice@example.com",
    Principal.COLLABORATOR: "carol@example.com",
    Principal.VIEWER: "victor@example.com",
    Principal.STRANGER: "sam@example.com",
}
GARDEN = (
    "Met Dr. Jane Smith from Acme Corporation in Berlin to plan the garden project. "
    "Jane thinks the compost should start in March."
)
BUDGET = "Jane Smith called about the garden project budget; Acme Corporation will fund seeds."
SHARE = """mutation($s: ID!, $e: String!, $r: Role!) {
  shareStream(streamId: $s, email: $e, role: $r) { id } }"""


def _expired_jwt(data_dir: Any, email: str) -> str:
    """A dev JWT for ``email`` that expired an hour ago (the issuer refuses to mint one)."""
    issuer = DevIssuer.load_or_create(data_dir)
    now = utcnow()
    claims = {
        "iss": DEV_ISSUER,
        "sub": dev_subject(email),
        "email": email,
        "iat": int((now - timedelta(hours=2)).timestamp()),
        "nbf": int((now - timedelta(hours=2)).timestamp()),
        "exp": int((now - timedelta(hours=1)).timestamp()),
    }
    key = issuer._signing_key  # the test forges what the issuer never mints
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": issuer.kid})


async def _ok(client: Any, query: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
    body = await gql(client, query, variables, token=token)
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def build_world(client: Any, data_dir: Any) -> dict[str, Any]:
    """Alice's stream with two analysed captures, shared with a collaborator and a viewer."""
    tokens: dict[Principal, str | None] = {p: dev_token(data_dir, e) for p, e in EMAILS.items()}
    create = 'mutation { createStream(input: {name: "Garden", source: NOTE}) { id } }'
    for principal in EMAILS:  # everyone signs in, with a stream of their own
        await _ok(client, create, {}, str(tokens[principal]))
    alice = str(tokens[Principal.OWNER])
    stream = (await _ok(client, create, {}, alice))["createStream"]["id"]
    batch = """mutation($i: [CaptureInput!]!) {
      captureBatch(inputs: $i) { results { capture { id } } } }"""
    items = [
        {"streamId": stream, "title": "Garden", "content": GARDEN, "data": {"source": "diary"}},
        {"streamId": stream, "title": "Budget", "content": BUDGET, "data": {"source": "phone"}},
    ]
    results = (await _ok(client, batch, {"i": items}, alice))["captureBatch"]["results"]
    captures = [r["capture"]["id"] for r in results]
    runtime = client.app.state.runtime
    async with open_analysis_services(runtime) as services:
        outcome = await pipeline.analyse(services, [decode_global_id(c).id for c in captures])
    assert len(outcome.done) == 2, outcome.summary()
    await _ok(
        client,
        SHARE,
        {"s": stream, "e": EMAILS[Principal.COLLABORATOR], "r": "COLLABORATOR"},
        alice,
    )
    await _ok(client, SHARE, {"s": stream, "e": EMAILS[Principal.VIEWER], "r": "VIEWER"}, alice)
    read = (
        """mutation { createApiToken(name: "reader", scopes: [READ]) { token apiToken { id } } }"""
    )
    made = (await _ok(client, read, {}, alice))["createApiToken"]
    tokens[Principal.READ_TOKEN] = made["token"]
    tokens[Principal.EXPIRED] = _expired_jwt(data_dir, EMAILS[Principal.OWNER])
    tokens[Principal.ANONYMOUS] = None
    ingest = """mutation($s: ID!) { createIngestToken(streamId: $s, name: "phone") { id } }"""
    ingest_id = (await _ok(client, ingest, {"s": stream}, alice))["createIngestToken"]["id"]
    graph = """query($c: ID!) { node(id: $c) { ... on Capture {
      insights { id } concepts { id name kind } edges(first: 20) { id } } } }"""
    first = (await _ok(client, graph, {"c": captures[0]}, alice))["node"]
    second = (await _ok(client, graph, {"c": captures[1]}, alice))["node"]
    by_kind: dict[str, set[str]] = {}
    for concept in first["concepts"] + second["concepts"]:
        by_kind.setdefault(concept["kind"], set()).add(concept["id"])
    pair = next(sorted(ids) for ids in by_kind.values() if len(ids) >= 2)
    assert first["insights"] and first["edges"], (first, second)
    extra = await _private_things(client, alice, stream, captures[0])
    return {
        **extra,
        "api_token": made["apiToken"]["id"],
        **{f"confirm:{p.value}": f"ERASE {e}" for p, e in EMAILS.items()},
        "confirm:read_token": f"ERASE {EMAILS[Principal.OWNER]}",
        "confirm:expired": f"ERASE {EMAILS[Principal.OWNER]}",
        "confirm:anonymous": "ERASE nobody@example.com",
        "tokens": tokens,
        "stream": stream,
        "capture": captures[0],
        "capture2": captures[1],
        "insight": first["insights"][0]["id"],
        "concept": pair[0],
        "concept2": pair[1],
        "concept_name": first["concepts"][0]["name"],
        "edge": first["edges"][0]["id"],
        "ingest_token": ingest_id,
    }


async def _private_things(client: Any, alice: str, stream: str, capture: str) -> dict[str, Any]:
    """Alice's second stream, a persona (shared), a share link, an export; the viewer's grant."""
    create = 'mutation { createStream(input: {name: "Private", source: NOTE}) { id } }'
    stream2 = (await _ok(client, create, {}, alice))["createStream"]["id"]
    persona = (await _ok(client, 'mutation { createPersona(name: "Work") { id } }', {}, alice))[
        "createPersona"
    ]["id"]
    add = "mutation($p: ID!, $s: ID!) { addStreamToPersona(personaId: $p, streamId: $s) { id } }"
    await _ok(client, add, {"p": persona, "s": stream}, alice)
    share = """mutation($p: ID!) {
      sharePersona(personaId: $p, email: "pat@example.com", role: VIEWER) { id } }"""
    persona_share = (await _ok(client, share, {"p": persona}, alice))["sharePersona"]["id"]
    link = """mutation($n: ID!) { createShareLink(nodeId: $n) { shareLink { id } } }"""
    share_link = (await _ok(client, link, {"n": capture}, alice))["createShareLink"]["shareLink"]
    await _ok(client, "mutation { exportMyData { id } }", {}, alice)
    grants = """query($s: ID!) { stream(id: $s) { grants { id role persona { id } } } }"""
    listed = (await _ok(client, grants, {"s": stream}, alice))["stream"]["grants"]
    viewer = [g["id"] for g in listed if g["role"] == "VIEWER" and g["persona"] is None]
    assert len(viewer) == 1, listed
    return {
        "stream2": stream2,
        "persona": persona,
        "persona_share": persona_share,
        "share_link": share_link["id"],
        "viewer_grant": viewer[0],
    }


# ---------------------------------------------------------------- cells
@dataclass
class Cell:
    coordinate: str
    principal: Principal
    expected: bool
    observed: bool | None = None
    detail: str = ""


@dataclass
class Matrix:
    cells: list[Cell] = field(default_factory=list)

    def mismatches(self) -> list[str]:
        return [
            f"{c.coordinate} × {c.principal.value}: expected "
            f"{'allow' if c.expected else 'deny'}, got "
            f"{'error' if c.observed is None else 'allow' if c.observed else 'deny'} {c.detail}"
            for c in self.cells
            if c.observed is not c.expected
        ]


def _selection(schema: GraphQLSchema, gql_field: GraphQLField, coordinate: str) -> str:
    if coordinate in PROBE_SELECTION:
        return PROBE_SELECTION[coordinate]
    named = get_named_type(gql_field.type)
    if is_leaf_type(named):
        return ""
    if isinstance(named, GraphQLObjectType) and named.name in PAYLOAD_TYPES:
        return "{ " + _payload_selection(named) + " }"
    return "{ __typename }"


def _payload_selection(payload: GraphQLObjectType) -> str:
    """Every field of a payload type: its cells are its mutation's."""
    parts = []
    for name, sub in payload.fields.items():
        named = get_named_type(sub.type)
        if is_leaf_type(named):
            parts.append(name)
        elif isinstance(named, GraphQLObjectType) and named.name in PAYLOAD_TYPES:
            parts.append(f"{name} {{ {_payload_selection(named)} }}")
        else:
            parts.append(f"{name} {{ __typename }}")
    return " ".join(parts)


def _walk(value: Any, key: str) -> tuple[bool, Any]:
    """Find ``key`` below ``value``; (False, None) when a null or an empty list hides it."""
    if isinstance(value, dict):
        if key in value:
            return True, value[key]
        for sub in value.values():
            found, inner = _walk(sub, key)
            if found or sub is None or sub == []:
                return found, inner
        return False, None
    if isinstance(value, list):
        return (False, None) if not value else _walk(value[0], key)
    return False, None


def _observe(
    response: httpx.Response, hidden_if_empty: bool, deny_codes: set[str] = DENY_CODES
) -> tuple[bool | None, str]:
    if response.status_code == 401:
        return False, "401"
    body = response.json()
    codes = {e.get("extensions", {}).get("code") for e in body.get("errors") or []}
    if codes - deny_codes:
        return None, str(body.get("errors"))[:300]
    if codes:
        return False, ",".join(sorted(c for c in codes if c))
    found, value = _walk(body.get("data") or {}, "probe")
    if not found or value is None:
        return False, "null"
    if hidden_if_empty and isinstance(value, dict | list):
        lists = value.values() if isinstance(value, dict) else [value]
        if all(all(item is None for item in v) for v in lists if isinstance(v, list)):
            return False, "empty"
    results = value.get("results") if isinstance(value, dict) else None
    if isinstance(results, list) and results:
        # A batch refuses item by item: denied when every item carries a deny code.
        item_codes = {(r.get("error") or {}).get("code") for r in results}
        if item_codes <= deny_codes:
            return False, "items " + ",".join(sorted(str(c) for c in item_codes))
    return True, ""


async def _post(client: Any, query: str, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response: httpx.Response = await client.post("/graphql", json={"query": query}, headers=headers)
    return response


def _classified(schema: GraphQLSchema) -> list[str]:
    """Coordinates the schema has that this file does not classify."""
    missing = []
    query = schema.query_type
    mutation = schema.mutation_type
    for name in query.fields if query else {}:
        if name not in QUERY_FIELDS:
            missing.append(f"Query.{name}")
    for name in mutation.fields if mutation else {}:
        if name not in MUTATIONS:
            missing.append(f"Mutation.{name}")
    for type_name, gtype in schema.type_map.items():
        if type_name.startswith("__") or not isinstance(gtype, GraphQLObjectType):
            continue
        if gtype in (query, mutation, schema.subscription_type):
            continue
        if type_name in PAYLOAD_TYPES or type_name in SUBSCRIPTION_TYPES:
            continue
        known = OBJECT_FIELDS.get(type_name)
        if known is None or type_name not in ROUTES:
            missing.append(f"{type_name} (no route or classification)")
            continue
        missing += [f"{type_name}.{f}" for f in gtype.fields if f not in known]
    return missing


def _required_args_present(gql_field: GraphQLField, given: dict[str, Any]) -> list[str]:
    return [
        name
        for name, arg in gql_field.args.items()
        if is_non_null_type(arg.type) and arg.default_value is None and name not in given
    ]


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return default_schema()._schema


def test_every_field_is_classified(schema: GraphQLSchema) -> None:
    """A field without a decision fails here before any cell runs."""
    assert _classified(schema) == []
    for coordinate, rule_args in {
        **{f"Query.{k}": QUERY_ARGS.get(k, {}) for k in QUERY_FIELDS},
        **{f"Mutation.{k}": v[1] for k, v in MUTATIONS.items()},
    }.items():
        type_name, name = coordinate.split(".")
        gtype = schema.get_type(type_name)
        assert isinstance(gtype, GraphQLObjectType)
        assert _required_args_present(gtype.fields[name], rule_args) == [], coordinate


async def _query_cells(client: Any, schema: GraphQLSchema, world: dict[str, Any]) -> Matrix:
    matrix = Matrix()
    tokens: dict[Principal, str | None] = world["tokens"]
    for type_name, routes in ROUTES.items():
        gtype = schema.get_type(type_name)
        assert isinstance(gtype, GraphQLObjectType), type_name
        rules = QUERY_FIELDS if type_name == "Query" else OBJECT_FIELDS[type_name]
        for route_index, route in enumerate(routes):
            for name, rule in rules.items():
                coordinate = f"{type_name}.{name}"
                args = QUERY_ARGS.get(name, {}) if type_name == "Query" else {}
                probe = f"probe: {name}{arguments(args, world)} " + _selection(
                    schema, gtype.fields[name], coordinate
                )
                values = {k: _literal_id(v) for k, v in world.items() if isinstance(v, str)}
                query = "{ " + route.format(sel=probe, **values) + " }"
                effective = Rule.SIGNED_IN if (type_name == "User" and route_index == 0) else rule
                for principal in PRINCIPALS:
                    cell = Cell(
                        f"{coordinate}" + (f" (route {route_index})" if len(routes) > 1 else ""),
                        principal,
                        allowed(effective, principal, mutation=False),
                    )
                    response = await _post(client, query, tokens[principal])
                    cell.observed, cell.detail = _observe(
                        response, coordinate in EMPTY_MEANS_HIDDEN
                    )
                    if (
                        cell.observed is False
                        and cell.detail == "null"
                        and cell.expected
                        and coordinate in NULLABLE_WHEN_ALLOWED
                    ):
                        cell.observed = True
                    matrix.cells.append(cell)
    return matrix


def _literal_id(value: str) -> str:
    import json

    return json.dumps(value)


@contextlib.asynccontextmanager
async def _app(settings: Any) -> AsyncIterator[Any]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            http.app = app  # type: ignore[attr-defined]
            yield http


async def _mutation_cells(
    schema: GraphQLSchema,
    pg_server_url: str,
    world_db: str,
    data_dir: Any,
    world: dict[str, Any],
    name: str,
    rule: Rule,
    args: dict[str, Any],
) -> list[Cell]:
    """One mutation × every principal, each in an untouched copy of the world.

    Principals go deny-first in one copy; after a call that went through
    (and so changed the copy), the next principal gets a fresh copy.
    """
    mutation_type = schema.mutation_type
    assert mutation_type is not None
    selection = _selection(schema, mutation_type.fields[name], f"Mutation.{name}")
    cells: list[Cell] = []
    pending = list(PRINCIPALS)
    while pending:
        copy_db, copy_url = clone_database(pg_server_url, world_db)
        try:
            settings = make_settings(database_url=copy_url, lifeos_data_dir=data_dir)
            async with _app(settings) as client:
                while pending:
                    principal = pending.pop(0)
                    given = arguments(args, world, principal.value)
                    query = f"mutation {{ probe: {name}{given} {selection} }}"
                    coordinate = f"Mutation.{name}"
                    cell = Cell(coordinate, principal, allowed(rule, principal, mutation=True))
                    response = await _post(client, query, world["tokens"][principal])
                    deny = DENY_CODES | EXTRA_DENY_CODES.get((coordinate, principal), set())
                    cell.observed, cell.detail = _observe(response, False, deny)
                    cells.append(cell)
                    if cell.observed is not False:
                        break  # the copy changed: the next principal gets a fresh one
        finally:
            drop_database(pg_server_url, copy_db)
    return cells


# About 1,300 requests and one database copy per allowed mutation call.
@pytest.mark.timeout(900)
async def test_authorization_matrix(
    schema: GraphQLSchema, pg_server_url: str, template_db: str, data_dir: Any
) -> None:
    assert _classified(schema) == []
    world_db, world_url = clone_database(pg_server_url, template_db)
    try:
        async with _app(make_settings(database_url=world_url, lifeos_data_dir=data_dir)) as client:
            world = await build_world(client, data_dir)
            matrix = await _query_cells(client, schema, world)
        mutation_type = schema.mutation_type
        assert mutation_type is not None
        for name, (rule, args) in MUTATIONS.items():
            matrix.cells += await _mutation_cells(
                schema, pg_server_url, world_db, data_dir, world, name, rule, args
            )
    finally:
        drop_database(pg_server_url, world_db)
    allowed_cells = sum(1 for c in matrix.cells if c.expected)
    print(
        f"authorization matrix: {len(matrix.cells)} cells "
        f"({allowed_cells} allow, {len(matrix.cells) - allowed_cells} deny)"
    )
    mismatches = matrix.mismatches()
    assert not mismatches, f"{len(mismatches)} cells differ:\n" + "\n".join(mismatches)
