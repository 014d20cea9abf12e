"""The OpenAPI 3.1 description of the REST surface, written by hand.

Kept accurate by tests: it is validated with openapi-spec-validator, and
every status code documented here is produced by a test.
"""

from __future__ import annotations

from functools import cache
from typing import Any

_REF = "#/components/schemas/"
_JSON = "application/json"

_ITEM_CODES = (
    "Per-item codes: `UNKNOWN_FIELD`, `BAD_USER_INPUT` (wrong type), `INVALID_TIMESTAMP`, "
    "`TOO_LARGE`, `EMPTY` (no title, content or data), `INVALID_EXTERNAL_ID`, "
    "`INVALID_TEXT` (NUL characters), `INVALID_JSON`, `NOT_FOUND`, `FORBIDDEN`."
)


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF + name}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {_JSON: {"schema": _ref("ErrorResponse")}}}


def _ingest(description: str) -> dict[str, Any]:
    return {"description": description, "content": {_JSON: {"schema": _ref("IngestResponse")}}}


_CAPTURE_ITEM: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "description": "One item. It needs a title, content or data. A malformed item is "
    "reported in its result (status INVALID) while the others are captured.",
    "properties": {
        "occurredAt": {
            "type": "string",
            "format": "date-time",
            "description": "ISO 8601; without an offset it is UTC. Defaults to now.",
        },
        "title": {"type": "string", "maxLength": 1000},
        "content": {
            "type": "string",
            "description": "Text; at most LIFEOS_MAX_CONTENT_BYTES UTF-8 bytes.",
        },
        "data": {"description": "Any JSON; at most LIFEOS_MAX_PAYLOAD_BYTES serialised."},
        "externalId": {
            "type": "string",
            "minLength": 1,
            "maxLength": 512,
            "description": "Your id for the item: resending it is a DUPLICATE, not a copy.",
        },
    },
}

_SCHEMAS: dict[str, Any] = {
    "CaptureItem": _CAPTURE_ITEM,
    "CaptureBatch": {
        "type": "object",
        "additionalProperties": False,
        "required": ["items"],
        "properties": {"items": {"type": "array", "minItems": 1, "items": _ref("CaptureItem")}},
    },
    "CaptureUpload": {
        "type": "object",
        "required": ["file"],
        "additionalProperties": False,
        "description": "A UTF-8 text file becomes one capture: content = its text, title = "
        "its filename, data = {filename, contentType, size}. Binary files are refused (415).",
        "properties": {
            "file": {"type": "string", "contentMediaType": "text/plain"},
            "occurredAt": {"type": "string", "format": "date-time"},
            "externalId": {"type": "string", "minLength": 1, "maxLength": 512},
        },
    },
    "ItemError": {
        "type": "object",
        "required": ["code", "message", "field"],
        "properties": {
            "code": {"type": "string", "description": _ITEM_CODES},
            "message": {"type": "string"},
            "field": {"type": ["string", "null"]},
        },
    },
    "ItemResult": {
        "type": "object",
        "required": ["index", "status", "id", "duplicateReason", "error"],
        "properties": {
            "index": {"type": "integer", "minimum": 0, "description": "Position in the request."},
            "status": {"type": "string", "enum": ["CREATED", "DUPLICATE", "INVALID"]},
            "id": {
                "type": ["string", "null"],
                "description": "Global id of the Capture (for a DUPLICATE: the first one).",
            },
            "duplicateReason": {"enum": ["EXTERNAL_ID", "CONTENT_HASH", None]},
            "error": {"oneOf": [_ref("ItemError"), {"type": "null"}]},
        },
    },
    "IngestResponse": {
        "type": "object",
        "required": ["results", "created", "duplicates", "invalid"],
        "properties": {
            "results": {"type": "array", "items": _ref("ItemResult")},
            "created": {"type": "integer", "minimum": 0},
            "duplicates": {"type": "integer", "minimum": 0},
            "invalid": {"type": "integer", "minimum": 0},
        },
    },
    "SharedCapture": {
        "type": "object",
        "required": ["title", "content", "contentTruncated", "occurredAt", "stream"],
        "properties": {
            "title": {"type": ["string", "null"]},
            "content": {
                "type": ["string", "null"],
                "description": "In lists (sources, mentions) an excerpt of at most 1,000 "
                "characters (contentTruncated says so).",
            },
            "contentTruncated": {"type": "boolean"},
            "occurredAt": {"type": "string", "format": "date-time"},
            "stream": {
                "type": "object",
                "required": ["name"],
                "properties": {"name": {"type": ["string", "null"]}},
            },
        },
    },
    "SharedNode": {
        "oneOf": [
            {
                "allOf": [_ref("SharedCapture")],
                "type": "object",
                "required": ["type"],
                "properties": {"type": {"const": "Capture"}},
            },
            {
                "type": "object",
                "required": ["type", "kind", "text", "producer", "generatedAt", "sources"],
                "properties": {
                    "type": {"const": "Insight"},
                    "kind": {"type": "string"},
                    "text": {"type": ["string", "null"]},
                    "producer": {"type": "string"},
                    "generatedAt": {"type": "string", "format": "date-time"},
                    "sources": {
                        "type": "array",
                        "description": "The captures it was derived from.",
                        "items": _ref("SharedCapture"),
                    },
                },
            },
            {
                "type": "object",
                "required": ["type", "name", "kind", "mentions"],
                "properties": {
                    "type": {"const": "Concept"},
                    "name": {"type": "string"},
                    "kind": {"type": "string"},
                    "mentions": {
                        "type": "array",
                        "maxItems": 20,
                        "description": "Captures mentioning it, most salient first.",
                        "items": _ref("SharedCapture"),
                    },
                },
            },
        ]
    },
    "SharedView": {
        "type": "object",
        "required": ["node", "expiresAt"],
        "properties": {
            "node": _ref("SharedNode"),
            "expiresAt": {"type": "string", "format": "date-time"},
        },
    },
    "ErrorResponse": {
        "type": "object",
        "required": ["errors"],
        "description": "The same shape as GraphQL errors.",
        "properties": {
            "errors": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["message", "extensions"],
                    "properties": {
                        "message": {"type": "string"},
                        "extensions": {
                            "type": "object",
                            "required": ["code", "requestId"],
                            "properties": {
                                "code": {"type": "string"},
                                "requestId": {"type": "string"},
                                "field": {"type": "string"},
                            },
                        },
                    },
                },
            }
        },
    },
}

_POST_CAPTURES: dict[str, Any] = {
    "operationId": "postCaptures",
    "summary": "Capture one item, a batch, or an uploaded text file into a stream",
    "security": [{"bearerJwt": []}, {"ingestToken": []}, {"apiToken": []}],
    "parameters": [
        {
            "name": "streamId",
            "in": "path",
            "required": True,
            "description": "The GraphQL global id of the Stream.",
            "schema": {"type": "string"},
        },
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "description": "Retrying a request with the same key returns the first "
            "response; the same key with a different body is 409.",
            "schema": {"type": "string", "minLength": 1, "maxLength": 255},
        },
    ],
    "requestBody": {
        "required": True,
        "description": "At most min(32 MiB, LIFEOS_MAX_BATCH_ITEMS x (2 x (content + "
        "payload limits) + 4 KiB) + 64 KiB) bytes and LIFEOS_MAX_BATCH_ITEMS items.",
        "content": {
            _JSON: {
                "schema": {
                    "oneOf": [
                        _ref("CaptureItem"),
                        _ref("CaptureBatch"),
                        {"type": "array", "minItems": 1, "items": _ref("CaptureItem")},
                    ]
                }
            },
            "multipart/form-data": {"schema": _ref("CaptureUpload")},
        },
    },
    "responses": {
        "200": _ingest("Every item was a duplicate of an earlier capture: nothing new."),
        "201": _ingest("No item was invalid and at least one capture was created."),
        "207": _ingest("Some items are INVALID (see their error); the others were captured."),
        "422": _ingest("Every item is INVALID; nothing was captured."),
        "400": _error("Malformed JSON or form, wrong envelope, no items, bad Idempotency-Key."),
        "401": _error("No credential, or an invalid, expired or revoked one."),
        "403": _error(
            "Your role on the stream (VIEWER) may not add captures, or your API token "
            "lacks the WRITE scope (reason `missing_scope`)."
        ),
        "404": _error(
            "No such stream, one you cannot see, or another stream than your ingest token's."
        ),
        "409": _error("The Idempotency-Key was already used for a different request."),
        "413": _error("The body or the number of items is over the limit."),
        "415": _error("Not JSON or multipart/form-data, or an uploaded file that is not text."),
    },
}

_GET_OPENAPI: dict[str, Any] = {
    "operationId": "getOpenApi",
    "summary": "This document",
    "security": [],
    "responses": {
        "200": {"description": "The OpenAPI description.", "content": {_JSON: {"schema": {}}}},
        "401": _error("A credential was sent and is invalid (none is needed)."),
        "403": _error("Ingest tokens only authorise posting captures."),
    },
}


_GET_SHARE: dict[str, Any] = {
    "operationId": "getSharedNode",
    "summary": "Read what a share link (GraphQL createShareLink) shows; no account needed",
    "description": "The node as the link's creator can see it now, with the lineage they "
    "can see. Responses carry `Cache-Control: no-store` and `Referrer-Policy: no-referrer`.",
    "security": [],
    "parameters": [
        {
            "name": "token",
            "in": "path",
            "required": True,
            "description": "The link token from the share URL.",
            "schema": {"type": "string"},
        }
    ],
    "responses": {
        "200": {
            "description": "The shared node.",
            "content": {_JSON: {"schema": _ref("SharedView")}},
        },
        "401": _error("A credential was sent and is invalid (none is needed)."),
        "404": _error(
            "The same answer for a malformed, unknown, expired or revoked link, and for a "
            "node its creator can no longer see."
        ),
    },
}


@cache
def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document served at ``GET /v1/openapi.json`` (do not mutate)."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "LifeOS ingest API",
            "version": "1",
            "description": "Post captures from devices and scripts. Errors have the "
            'GraphQL shape `{"errors": [{"message", "extensions": {"code"}}]}`; other '
            "methods on these paths answer 405, unknown paths 404, both as JSON.",
        },
        "paths": {
            "/v1/streams/{streamId}/captures": {"post": _POST_CAPTURES},
            "/v1/openapi.json": {"get": _GET_OPENAPI},
            "/v1/share/{token}": {"get": _GET_SHARE},
        },
        "components": {
            "schemas": _SCHEMAS,
            "securitySchemes": {
                "bearerJwt": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "A Clerk (or dev issuer) session JWT; acts as its user.",
                },
                "apiToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "lifeos_pat_<secret>",
                    "description": "A personal access token (GraphQL createApiToken) acting "
                    "as its creator within its scopes: posting captures needs WRITE.",
                },
                "ingestToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "lifeos_ingest_<secret>",
                    "description": "A per-stream ingest token (GraphQL createIngestToken): "
                    "write-only, valid only for POST captures into its own stream, acting "
                    "as its creator, who must still be OWNER or COLLABORATOR there.",
                },
            },
        },
    }
