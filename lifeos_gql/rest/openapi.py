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
    "ClerkEvent": {
        "type": "object",
        "required": ["type", "data"],
        "description": "A Clerk webhook event, as Clerk sends it. `user.created`, "
        "`user.updated` and `user.deleted` are processed (their `data` needs the Clerk "
        "user `id`); any other `type` is acknowledged with 204 and ignored.",
        "properties": {
            "type": {"type": "string", "examples": ["user.created", "user.deleted"]},
            "object": {"const": "event"},
            "data": {
                "type": "object",
                "description": "The Clerk user object. Kept: `id` (1 to 200 characters), "
                "the primary address of `email_addresses` (by `primary_email_address_id`), "
                "and `first_name` + `last_name` (else `username`) as the name.",
                "properties": {
                    "id": {"type": "string", "minLength": 1, "maxLength": 200},
                    "primary_email_address_id": {"type": ["string", "null"]},
                    "email_addresses": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "id": {"type": "string"},
                                "email_address": {"type": "string"},
                            },
                        },
                    },
                    "first_name": {"type": ["string", "null"]},
                    "last_name": {"type": ["string", "null"]},
                    "username": {"type": ["string", "null"]},
                },
            },
        },
    },
    "ErasureReceipt": {
        "type": "object",
        "additionalProperties": False,
        "required": ["pseudonym", "erasedAt", "digest", "counts", "vectorIndexPurged"],
        "description": "What the erasure removed, as GraphQL `eraseMyAccount` reports it; "
        "`digest` equals the one in the `account.erased` audit row.",
        "properties": {
            "pseudonym": {"type": "string", "description": "The erased user's audit chain."},
            "erasedAt": {"type": "string", "format": "date-time"},
            "digest": {
                "type": "string",
                "pattern": "^[0-9a-f]{64}$",
                "description": "Hex SHA-256 of the canonical receipt.",
            },
            "counts": {
                "type": "object",
                "description": "Rows deleted per table.",
                "additionalProperties": {"type": "integer", "minimum": 0},
            },
            "vectorIndexPurged": {
                "type": "boolean",
                "description": "False if the vector index could not be reached (an "
                "operator re-runs the purge), as in GraphQL `eraseMyAccount`.",
            },
        },
    },
    "ClerkWebhookResult": {
        "oneOf": [
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["status"],
                "description": "This `svix-id` was processed before: nothing changed.",
                "properties": {"status": {"const": "duplicate"}},
            },
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["status", "event"],
                "description": "The user was provisioned or refreshed.",
                "properties": {
                    "status": {"const": "processed"},
                    "event": {"enum": ["user.created", "user.updated"]},
                },
            },
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["status", "event", "erased"],
                "description": "No account has this Clerk user: nothing to erase.",
                "properties": {
                    "status": {"const": "processed"},
                    "event": {"const": "user.deleted"},
                    "erased": {"const": False},
                },
            },
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["status", "event", "erased", "receipt"],
                "description": "The account was erased, as by GraphQL `eraseMyAccount`.",
                "properties": {
                    "status": {"const": "processed"},
                    "event": {"const": "user.deleted"},
                    "erased": {"const": True},
                    "receipt": _ref("ErasureReceipt"),
                },
            },
        ]
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

_NO_CREDENTIAL = "A credential was sent and is invalid (none is needed)."
_INGEST_REFUSED = "An ingest token was sent (`ingest_token_scope`): none is needed."

_GET_OPENAPI: dict[str, Any] = {
    "operationId": "getOpenApi",
    "summary": "This document",
    "security": [],
    "responses": {
        "200": {"description": "The OpenAPI description.", "content": {_JSON: {"schema": {}}}},
        "401": _error(_NO_CREDENTIAL),
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
        "401": _error(_NO_CREDENTIAL),
        "403": _error(_INGEST_REFUSED),
        "404": _error(
            "The same answer for a malformed, unknown, expired or revoked link, and for a "
            "node its creator can no longer see."
        ),
    },
}


def _header(description: str, *, required: bool = True) -> dict[str, Any]:
    return {"description": description, "required": required, "schema": {"type": "string"}}


_GET_EXPORT: dict[str, Any] = {
    "operationId": "getExport",
    "summary": "Download a data export (GraphQL exportMyData) through its signed link",
    "description": "The link is `Export.downloadUrl` (`me { exports { downloadUrl } }`): "
    "an HMAC-SHA256 signature over the export id and expiry, with a key derived from the "
    "master key, valid 15 minutes; send no Authorization header. The signature and expiry "
    "are checked before the database is read. The archive streams decrypted; each "
    "download is audited (`export.downloaded`).",
    "security": [],
    "parameters": [
        {
            "name": "exportId",
            "in": "path",
            "required": True,
            "description": "The GraphQL global id of the Export.",
            "schema": {"type": "string"},
        },
        {
            "name": "expires",
            "in": "query",
            "required": True,
            "description": "Expiry of the link, Unix seconds (signed).",
            "schema": {"type": "string", "pattern": "^[0-9]{1,12}$"},
        },
        {
            "name": "sig",
            "in": "query",
            "required": True,
            "description": "Hex HMAC-SHA256 of the export id and `expires`, by the server.",
            "schema": {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"},
        },
    ],
    "responses": {
        "200": {
            "description": "The zip archive (JSON files, a manifest and a README.txt).",
            "headers": {
                "Content-Disposition": _header(
                    '`attachment; filename="lifeos-export-<yyyymmdd>-<id prefix>.zip"`'
                ),
                "Content-Length": _header("The archive's size in bytes.", required=False),
                "Cache-Control": _header("`no-store`."),
                "Referrer-Policy": _header("`no-referrer`: the link is a credential."),
                "X-Content-Type-Options": _header("`nosniff`."),
            },
            "content": {
                "application/zip": {
                    "schema": {"type": "string", "contentMediaType": "application/zip"}
                }
            },
        },
        "401": _error(_NO_CREDENTIAL),
        "403": _error(
            "The link is forged or altered (`extensions.reason` `bad_signature`), past its "
            "expiry (`link_expired`) or lacks `expires`/`sig` (`malformed_link`); or an "
            "ingest token was sent (`ingest_token_scope`)."
        ),
        "404": _error(
            "The same answer for a malformed or unknown export id, an export that is not "
            "READY (pending, failed or expired after 7 days), and one whose owner was erased."
        ),
    },
}


_POST_CLERK_WEBHOOK: dict[str, Any] = {
    "operationId": "postClerkWebhook",
    "summary": "Clerk user events (Svix-signed): sync users, erase on user.deleted",
    "description": "Configure a Clerk webhook with `user.created`, `user.updated` and "
    "`user.deleted`, and set CLERK_WEBHOOK_SECRET and CLERK_ISSUER. The body is verified "
    "with the `svix` package against the secret (signature of `{svix-id}.{svix-timestamp}."
    "{body}`, timestamp within 5 minutes). `user.created`/`user.updated` provision or "
    "refresh the user whose JWT subject is `<CLERK_ISSUER>|<data.id>`; `user.deleted` "
    "erases that account as GraphQL `eraseMyAccount` does. Each `svix-id` is remembered "
    "for 7 days in the transaction that applies it: a redelivery answers 200 `duplicate`, "
    "and a failed attempt (4xx/5xx) is applied by Svix's retry.",
    "security": [{"svixSignature": []}],
    "parameters": [
        {
            "name": "svix-id",
            "in": "header",
            "required": True,
            "description": "The delivery's message id (signed); the key for redeliveries.",
            "schema": {"type": "string", "minLength": 1},
        },
        {
            "name": "svix-timestamp",
            "in": "header",
            "required": True,
            "description": "Unix seconds (signed); refused more than 5 minutes off.",
            "schema": {"type": "string", "pattern": "^[0-9]+$"},
        },
    ],
    "requestBody": {
        "required": True,
        "description": "At most 256 KiB; verified byte for byte, whatever its Content-Type.",
        "content": {_JSON: {"schema": _ref("ClerkEvent")}},
    },
    "responses": {
        "200": {
            "description": "A user event was applied, or this delivery was applied before.",
            "content": {_JSON: {"schema": _ref("ClerkWebhookResult")}},
        },
        "204": {"description": "Another event type: acknowledged and ignored (no body)."},
        "400": _error(
            "Content-Length is not a number; or, once the signature verifies, the body is "
            "not a JSON event with a string `type` and an object `data`, or a user event's "
            "`data.id` is missing or longer than 200 characters."
        ),
        "401": _error(
            "The signature does not verify (wrong secret, altered body, missing svix "
            "headers, timestamp more than 5 minutes off), or an Authorization header was "
            "sent and is invalid."
        ),
        "403": _error(_INGEST_REFUSED),
        "413": _error("The body is larger than 256 KiB (262144 bytes)."),
        "503": _error(
            "`NOT_CONFIGURED`: CLERK_WEBHOOK_SECRET or CLERK_ISSUER is unset, or the "
            "secret is not a valid Svix secret. Svix keeps retrying, so no event is lost."
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
            "description": "Post captures from devices and scripts, read share links, "
            "download data exports and receive Clerk webhooks. Errors have the "
            'GraphQL shape `{"errors": [{"message", "extensions": {"code"}}]}`; other '
            "methods on these paths answer 405, unknown paths 404, both as JSON.",
        },
        "paths": {
            "/v1/streams/{streamId}/captures": {"post": _POST_CAPTURES},
            "/v1/openapi.json": {"get": _GET_OPENAPI},
            "/v1/share/{token}": {"get": _GET_SHARE},
            "/v1/exports/{exportId}": {"get": _GET_EXPORT},
            "/v1/webhooks/clerk": {"post": _POST_CLERK_WEBHOOK},
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
                "svixSignature": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "svix-signature",
                    "description": "Clerk's Svix signature: `v1,<base64 HMAC-SHA256>` "
                    "entries, separated by spaces, of `{svix-id}.{svix-timestamp}.{body}` "
                    "keyed with CLERK_WEBHOOK_SECRET (`whsec_...`).",
                },
            },
        },
    }
