"""REST ingest: ``POST /v1/streams/{streamId}/captures`` and ``/v1/openapi.json``.

Every status code the OpenAPI document lists, for every ``/v1`` endpoint, is
produced by a scenario here, and its body is checked against the documented
media type and schema (export and Clerk webhook scenarios: privacy_scenarios).
"""

from __future__ import annotations

import io
import uuid
import zipfile
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from openapi_spec_validator import validate as validate_spec
from sqlalchemy import text

from lifeos_gql.config import Settings
from lifeos_gql.core.actor import Actor
from lifeos_gql.core.ids import decode_global_id, encode_global_id
from lifeos_gql.domains.captures import service as captures
from lifeos_gql.domains.captures.models import CaptureRecord
from lifeos_gql.domains.streams import service as streams
from lifeos_gql.domains.streams.models import SourceKind
from lifeos_gql.domains.tokens import service as tokens
from lifeos_gql.rest.body import max_request_bytes
from lifeos_gql.rest.openapi import openapi_document
from lifeos_gql.runtime import Runtime
from tests.conftest import make_settings
from tests.helpers import bearer, dev_token, gql
from tests.integration import privacy_scenarios as privacy

MAX_ITEMS = 8


@pytest.fixture
def settings(db_url: str, data_dir: Any) -> Settings:
    """Small limits so 413 is reachable with small bodies."""
    return make_settings(
        database_url=db_url,
        lifeos_data_dir=data_dir,
        lifeos_max_batch_items=MAX_ITEMS,
        lifeos_max_content_bytes=1_000,
        lifeos_max_payload_bytes=1_000,
    )


# --- helpers shared with test_ingest_tokens -------------------------------------------


def runtime_of(client: Any) -> Runtime:
    runtime: Runtime = client.app.state.runtime
    return runtime


async def sign_up(client: Any, settings: Settings, email: str) -> tuple[str, uuid.UUID]:
    """A dev JWT for ``email`` and the id of the user it provisions."""
    token = dev_token(settings.lifeos_data_dir, email)
    body = await gql(client, "{ me { id } }", token=token)
    return token, decode_global_id(body["data"]["me"]["id"]).id


async def make_stream(client: Any, owner_id: uuid.UUID, name: str = "Phone notes") -> uuid.UUID:
    async with runtime_of(client).db.transaction(owner_id) as uow:
        stream = await streams.create_stream(
            uow=uow, actor=Actor(user_id=owner_id), name=name, source=SourceKind.NOTE
        )
    return stream.id


async def grant(client: Any, stream_id: uuid.UUID, user_id: uuid.UUID, role: str | None) -> None:
    """Give ``user_id`` a role on the stream (None removes it)."""
    async with runtime_of(client).system_db.transaction() as uow:
        await uow.execute(
            text("DELETE FROM grants WHERE stream_id = :s AND grantee_id = :u"),
            {"s": stream_id, "u": user_id},
        )
        if role is not None:
            await uow.execute(
                text(
                    "INSERT INTO grants (owner_id, stream_id, grantee_id, role)"
                    " SELECT owner_id, id, :u, :r FROM streams WHERE id = :s"
                ),
                {"s": stream_id, "u": user_id, "r": role},
            )


def captures_url(stream_id: uuid.UUID) -> str:
    return f"/v1/streams/{encode_global_id('Stream', stream_id)}/captures"


async def load_capture(client: Any, owner_id: uuid.UUID, global_id: str) -> CaptureRecord:
    runtime = runtime_of(client)
    capture_id = decode_global_id(global_id, expected="Capture").id
    async with runtime.db.transaction(owner_id) as uow:
        found = await captures.captures_by_ids(
            uow=uow, actor=Actor(user_id=owner_id), crypto=runtime.capture_crypto, ids=[capture_id]
        )
    return found[capture_id]


async def count_captures(client: Any, stream_id: uuid.UUID) -> int:
    async with runtime_of(client).system_db.transaction() as uow:
        result = await uow.execute(
            text("SELECT count(*) FROM captures WHERE stream_id = :s"), {"s": stream_id}
        )
        return int(result.scalar_one())


def codes(response: httpx.Response) -> list[str]:
    return [e["extensions"]["code"] for e in response.json()["errors"]]


@dataclass
class World:
    client: Any
    settings: Settings
    alice: str
    alice_id: uuid.UUID
    stream_id: uuid.UUID

    @property
    def url(self) -> str:
        return captures_url(self.stream_id)

    async def post(
        self, body: Any = None, *, token: str | None = None, **kw: Any
    ) -> httpx.Response:
        headers = {**bearer(token or self.alice), **kw.pop("headers", {})}
        if body is not None:
            kw["json"] = body
        response: httpx.Response = await self.client.post(self.url, headers=headers, **kw)
        return response


@pytest.fixture
async def world(client: Any, settings: Settings) -> AsyncIterator[World]:
    alice, alice_id = await sign_up(client, settings, "alice@example.com")
    yield World(client, settings, alice, alice_id, await make_stream(client, alice_id))


# --- JSON bodies -------------------------------------------------------------------------


async def test_single_item_is_created(world: World) -> None:
    item = {
        "occurredAt": "2026-03-01T08:30:00+01:00",
        "title": "Morning run",
        "content": "5 km along the river",
        "data": {"km": 5, "hr": [120, 150]},
        "externalId": "run-1",
    }
    response = await world.post(item)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["created"] == 1 and body["duplicates"] == 0 and body["invalid"] == 0
    [result] = body["results"]
    assert result["index"] == 0 and result["status"] == "CREATED" and result["error"] is None
    record = await load_capture(world.client, world.alice_id, result["id"])
    assert (record.title, record.content, record.data) == (
        "Morning run",
        "5 km along the river",
        {"km": 5, "hr": [120, 150]},
    )
    assert record.external_id == "run-1"
    assert record.occurred_at.isoformat() == "2026-03-01T07:30:00+00:00"
    assert record.stream_id == world.stream_id and record.author_id == world.alice_id


async def test_batch_envelope_and_array_then_duplicates(world: World) -> None:
    batch = {"items": [{"content": "one", "externalId": "a"}, {"content": "two"}]}
    first = await world.post(batch)
    assert first.status_code == 201
    assert [r["status"] for r in first.json()["results"]] == ["CREATED", "CREATED"]
    as_array = await world.post([{"title": "three"}, {"title": "four"}])
    assert as_array.status_code == 201 and as_array.json()["created"] == 2

    again = await world.post(batch)
    assert again.status_code == 200
    body = again.json()
    assert (body["created"], body["duplicates"], body["invalid"]) == (0, 2, 0)
    assert [r["duplicateReason"] for r in body["results"]] == ["EXTERNAL_ID", "CONTENT_HASH"]
    assert [r["id"] for r in body["results"]] == [r["id"] for r in first.json()["results"]]

    new_and_old = await world.post([{"content": "five"}, {"content": "one", "externalId": "a"}])
    assert new_and_old.status_code == 201  # something new, nothing invalid
    assert await count_captures(world.client, world.stream_id) == 5


async def test_some_invalid_items_is_207_with_per_item_errors(world: World) -> None:
    response = await world.post(
        [
            {"content": "fine"},
            {"title": 5},
            {"contnet": "typo"},
            {"content": "x", "occurredAt": "yesterday"},
            {"content": "   "},
            "not an object",
        ]
    )
    assert response.status_code == 207
    body = response.json()
    assert (body["created"], body["invalid"]) == (1, 5)
    errors = [(r["index"], r["status"], r["error"]) for r in body["results"]]
    assert errors[0] == (0, "CREATED", None)
    assert [(e[0], e[2]["code"], e[2]["field"]) for e in errors[1:]] == [
        (1, "BAD_USER_INPUT", "title"),
        (2, "UNKNOWN_FIELD", "contnet"),
        (3, "INVALID_TIMESTAMP", "occurredAt"),
        (4, "EMPTY", "content"),
        (5, "BAD_USER_INPUT", None),
    ]
    assert all(r["id"] is None for r in body["results"][1:])
    assert await count_captures(world.client, world.stream_id) == 1


async def test_every_item_invalid_is_422(world: World) -> None:
    response = await world.post({"content": "x" * 1_001})
    assert response.status_code == 422
    [result] = response.json()["results"]
    assert result["error"]["code"] == "TOO_LARGE" and result["error"]["field"] == "content"


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b"{not json", "body"),
        (b"", "body"),
        (b"42", "body"),
        (b'{"items": {}}', "items"),
        (b'{"items": []}', "items"),
        (b"[]", "items"),
        (b'{"items": [{"content": "a"}], "stream": 1}', "stream"),
        (b'{"content": "\xff\xfe"}', "body"),
        (b"[" * 5000 + b"]" * 5000, "body"),
    ],
)
async def test_malformed_json_is_400(world: World, raw: bytes, field: str) -> None:
    response = await world.post(content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert codes(response) == ["BAD_USER_INPUT"]
    assert response.json()["errors"][0]["extensions"]["field"] == field


# --- multipart uploads -------------------------------------------------------------------


async def test_text_file_upload_becomes_one_capture(world: World) -> None:
    text_body = "\ufeffCafé notes\nsecond line\n".encode()
    response = await world.post(
        files={"file": ("notes.md", text_body, "text/markdown")},
        data={"occurredAt": "2026-02-02T10:00:00Z", "externalId": "notes.md@v1"},
    )
    assert response.status_code == 201, response.text
    record = await load_capture(world.client, world.alice_id, response.json()["results"][0]["id"])
    assert record.title == "notes.md"
    assert record.content == "Café notes\nsecond line\n"
    assert record.data == {
        "filename": "notes.md",
        "contentType": "text/markdown",
        "size": len(text_body),
    }
    assert record.external_id == "notes.md@v1"
    assert record.occurred_at.isoformat() == "2026-02-02T10:00:00+00:00"


@pytest.mark.parametrize(
    "payload", [b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", b"text\x00with NUL", b"\xc3\x28 bad utf-8"]
)
async def test_binary_upload_is_415(world: World, payload: bytes) -> None:
    response = await world.post(files={"file": ("x.bin", payload, "application/octet-stream")})
    assert response.status_code == 415
    assert codes(response) == ["UNSUPPORTED_MEDIA_TYPE"]
    assert await count_captures(world.client, world.stream_id) == 0


async def test_bad_forms_are_400(world: World) -> None:
    no_file = await world.post(files={"other": ("a.txt", b"hi", "text/plain")})
    assert no_file.status_code == 400 and codes(no_file) == ["BAD_USER_INPUT"]
    # A part without a filename is a plain field, not a file.
    plain_field = await world.post(files={"file": (None, b"hi")})
    assert plain_field.status_code == 400
    garbage = await world.post(
        content=b"--nope\r\n\r\n", headers={"Content-Type": "multipart/form-data"}
    )
    assert garbage.status_code == 400 and codes(garbage) == ["BAD_USER_INPUT"]
    bad_time = await world.post(
        files={"file": ("a.txt", b"hi", "text/plain")}, data={"occurredAt": "soon"}
    )
    assert bad_time.status_code == 422
    assert bad_time.json()["results"][0]["error"]["code"] == "INVALID_TIMESTAMP"


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "application/xml"]
)
async def test_other_content_types_are_415(world: World, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = await world.post(content=b'{"content": "x"}', headers=headers)
    assert response.status_code == 415
    assert codes(response) == ["UNSUPPORTED_MEDIA_TYPE"]


async def test_json_with_charset_and_vendor_type_is_accepted(world: World) -> None:
    for content_type in ("application/json; charset=utf-8", "application/vnd.lifeos+json"):
        response = await world.post(
            content=f'{{"content": "{content_type}"}}'.encode(),
            headers={"Content-Type": content_type},
        )
        assert response.status_code == 201, content_type


# --- limits ------------------------------------------------------------------------------


async def test_too_large_bodies_are_413_without_reading_them_all(world: World) -> None:
    cap = max_request_bytes(runtime_of(world.client).capture_limits)
    declared = await world.post(
        content=b"[" + b" " * cap + b"]", headers={"Content-Type": "application/json"}
    )
    assert declared.status_code == 413 and codes(declared) == ["PAYLOAD_TOO_LARGE"]

    sent: list[int] = []

    async def endless() -> AsyncIterator[bytes]:
        for _ in range(1_000):  # 64 MB if nobody stopped reading
            sent.append(1)
            yield b" " * 65_536

    chunked = await world.post(content=endless(), headers={"Content-Type": "application/json"})
    assert chunked.status_code == 413
    assert len(sent) * 65_536 <= cap + 2 * 65_536  # stopped right past the cap

    too_many = await world.post([{"content": str(i)} for i in range(MAX_ITEMS + 1)])
    assert too_many.status_code == 413 and codes(too_many) == ["PAYLOAD_TOO_LARGE"]


# --- auth and roles ----------------------------------------------------------------------


async def test_missing_or_bad_credentials_are_401(world: World) -> None:
    anonymous = await world.client.post(world.url, json={"content": "x"})
    assert anonymous.status_code == 401 and codes(anonymous) == ["UNAUTHENTICATED"]
    bad = await world.post({"content": "x"}, token="not.a.jwt")
    assert bad.status_code == 401 and bad.headers["www-authenticate"].startswith("Bearer")


async def test_streams_you_cannot_see_are_404(world: World) -> None:
    bob, _ = await sign_up(world.client, world.settings, "bob@example.com")
    hidden = await world.post({"content": "x"}, token=bob)
    assert hidden.status_code == 404 and codes(hidden) == ["NOT_FOUND"]
    for stream_ref in (
        encode_global_id("Stream", uuid.uuid4()),
        encode_global_id("Capture", world.stream_id),
        "garbage!",
    ):
        response = await world.client.post(
            f"/v1/streams/{stream_ref}/captures", json={"content": "x"}, headers=bearer(world.alice)
        )
        assert response.status_code == 404, stream_ref
    unknown_path = await world.client.get("/v1/nothing-here")
    assert unknown_path.status_code == 404 and codes(unknown_path) == ["NOT_FOUND"]


async def test_roles_decide_who_may_ingest(world: World) -> None:
    viewer, viewer_id = await sign_up(world.client, world.settings, "viewer@example.com")
    await grant(world.client, world.stream_id, viewer_id, "VIEWER")
    refused = await world.post({"content": "from a viewer"}, token=viewer)
    assert refused.status_code == 403 and codes(refused) == ["FORBIDDEN"]
    await grant(world.client, world.stream_id, viewer_id, "COLLABORATOR")
    allowed = await world.post({"content": "from a collaborator"}, token=viewer)
    assert allowed.status_code == 201
    assert await count_captures(world.client, world.stream_id) == 1


async def test_other_methods_are_405_json(world: World) -> None:
    response = await world.client.get(world.url, headers=bearer(world.alice))
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert codes(response) == ["METHOD_NOT_ALLOWED"]


# --- idempotency -------------------------------------------------------------------------


async def test_idempotency_key_replays_the_first_response(world: World) -> None:
    batch = [{"content": "first"}, {"content": "second"}, {"bogus": True}]
    key = {"Idempotency-Key": "upload-42"}
    first = await world.post(batch, headers=key)
    assert first.status_code == 207
    replay = await world.post(batch, headers=key)
    assert replay.status_code == 207
    assert replay.json() == first.json()  # CREATED again, not DUPLICATE: the first response
    assert await count_captures(world.client, world.stream_id) == 2

    changed = await world.post([{"content": "other"}], headers=key)
    assert changed.status_code == 409 and codes(changed) == ["CONFLICT"]
    too_long = await world.post([{"content": "x"}], headers={"Idempotency-Key": "k" * 256})
    assert too_long.status_code == 400


# --- OpenAPI -----------------------------------------------------------------------------


async def test_openapi_is_served_and_valid(client: Any) -> None:
    response = await client.get("/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    validate_spec(document)
    assert document == openapi_document()
    schemes = document["components"]["securitySchemes"]
    assert set(schemes) == {"bearerJwt", "ingestToken", "apiToken", "svixSignature"}


Scenario = Callable[[World], Awaitable[httpx.Response]]


async def _ingest_token(w: World) -> str:
    async with runtime_of(w.client).db.transaction(w.alice_id) as uow:
        _row, secret = await tokens.create_ingest_token(
            uow=uow, actor=Actor(user_id=w.alice_id), stream_id=w.stream_id, name="scenario"
        )
    return secret


async def _viewer_posts(w: World) -> httpx.Response:
    viewer, viewer_id = await sign_up(w.client, w.settings, "v@example.com")
    await grant(w.client, w.stream_id, viewer_id, "VIEWER")
    return await w.post({"content": "x"}, token=viewer)


async def _duplicate(w: World) -> httpx.Response:
    await w.post({"content": "same"})
    return await w.post({"content": "same"})


async def _conflict(w: World) -> httpx.Response:
    await w.post({"content": "a"}, headers={"Idempotency-Key": "k"})
    return await w.post({"content": "b"}, headers={"Idempotency-Key": "k"})


async def _token_on_openapi(w: World) -> httpx.Response:
    headers = bearer(await _ingest_token(w))
    response: httpx.Response = await w.client.get("/v1/openapi.json", headers=headers)
    return response


async def _token_on_share(w: World) -> httpx.Response:
    headers = bearer(await _ingest_token(w))
    response: httpx.Response = await w.client.get("/v1/share/" + "A" * 43, headers=headers)
    return response


async def _open_share_link(w: World) -> httpx.Response:
    capture = (await w.post({"content": "shared"})).json()["results"][0]["id"]
    created = await gql(
        w.client,
        "mutation($n: ID!) { createShareLink(nodeId: $n) { url } }",
        {"n": capture},
        token=w.alice,
    )
    path = "/v1/share/" + created["data"]["createShareLink"]["url"].rsplit("/", 1)[1]
    response: httpx.Response = await w.client.get(path)
    return response


async def _ingest_token_on_webhook(w: World) -> httpx.Response:
    return await privacy.webhook_with_ingest_token(w, await _ingest_token(w))


CAPTURES = ("post", "/v1/streams/{streamId}/captures")
OPENAPI = ("get", "/v1/openapi.json")
SHARE = ("get", "/v1/share/{token}")
EXPORT = ("get", "/v1/exports/{exportId}")
WEBHOOK = ("post", "/v1/webhooks/clerk")
SCENARIOS: dict[tuple[str, str, str], Scenario] = {
    (*CAPTURES, "200"): _duplicate,
    (*CAPTURES, "201"): lambda w: w.post({"content": "new"}),
    (*CAPTURES, "207"): lambda w: w.post([{"content": "ok"}, {"content": ""}]),
    (*CAPTURES, "422"): lambda w: w.post([{"content": ""}]),
    (*CAPTURES, "400"): lambda w: w.post(
        content=b"{", headers={"Content-Type": "application/json"}
    ),
    (*CAPTURES, "401"): lambda w: w.client.post(w.url, json={"content": "x"}),
    (*CAPTURES, "403"): _viewer_posts,
    (*CAPTURES, "404"): lambda w: w.client.post(
        captures_url(uuid.uuid4()), json={"content": "x"}, headers=bearer(w.alice)
    ),
    (*CAPTURES, "409"): _conflict,
    (*CAPTURES, "413"): lambda w: w.post([{"content": "x"}] * (MAX_ITEMS + 1)),
    (*CAPTURES, "415"): lambda w: w.post(content=b"x", headers={"Content-Type": "text/plain"}),
    (*OPENAPI, "200"): lambda w: w.client.get("/v1/openapi.json"),
    (*OPENAPI, "401"): lambda w: w.client.get("/v1/openapi.json", headers=bearer("bad")),
    (*OPENAPI, "403"): _token_on_openapi,
    (*SHARE, "200"): _open_share_link,
    (*SHARE, "401"): lambda w: w.client.get("/v1/share/" + "A" * 43, headers=bearer("bad")),
    (*SHARE, "403"): _token_on_share,
    (*SHARE, "404"): lambda w: w.client.get("/v1/share/" + "A" * 43),
    (*EXPORT, "200"): privacy.download_export,
    (*EXPORT, "401"): privacy.export_with_bad_credential,
    (*EXPORT, "403"): privacy.export_with_forged_link,
    (*EXPORT, "404"): privacy.unknown_export,
    (*WEBHOOK, "200"): privacy.webhook_erases_a_user,
    (*WEBHOOK, "204"): privacy.webhook_other_event,
    (*WEBHOOK, "400"): privacy.webhook_without_user_id,
    (*WEBHOOK, "401"): privacy.webhook_forged,
    (*WEBHOOK, "403"): _ingest_token_on_webhook,
    (*WEBHOOK, "413"): privacy.webhook_too_large,
    (*WEBHOOK, "503"): privacy.webhook_not_configured,
}


def _documented() -> list[tuple[str, str, str]]:
    return [
        (method, path, status)
        for path, operations in openapi_document()["paths"].items()
        for method, operation in operations.items()
        for status in operation["responses"]
    ]


def test_every_documented_status_has_a_scenario() -> None:
    assert sorted(SCENARIOS) == sorted(_documented())


@pytest.mark.parametrize("operation", _documented(), ids="-".join)
async def test_documented_status_is_reachable_and_matches_its_schema(
    world: World, operation: tuple[str, str, str]
) -> None:
    method, path, status = operation
    response = await SCENARIOS[operation](world)
    assert response.status_code == int(status), response.text
    declared = openapi_document()["paths"][path][method]["responses"][status]
    for name, header in declared.get("headers", {}).items():
        assert not header.get("required") or name in response.headers, name
    content = declared.get("content")
    if content is None:  # documented without a body (204)
        assert response.content == b""
        assert "content-type" not in response.headers
        return
    media_type = response.headers["content-type"].split(";")[0].strip()
    assert media_type in content, response.headers["content-type"]
    if media_type == "application/json":
        _validate(response.json(), content[media_type]["schema"])
    elif media_type == "application/zip":
        with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
            assert archive.namelist() and archive.testzip() is None
    else:
        pytest.fail(f"no check for {media_type}")


def _validate(body: Any, schema: dict[str, Any]) -> None:
    """Validate ``body`` against a schema of the document (its $refs resolved)."""
    document = openapi_document()
    Draft202012Validator({**schema, "components": document["components"]}).validate(body)


async def test_every_clerk_webhook_result_matches_its_documented_schema(world: World) -> None:
    """The 200 scenario shows one result; the other kinds must match the schema too."""
    created, duplicate, unknown, erased = await privacy.webhook_outcomes(world)
    bodies = [r.json() for r in (created, duplicate, unknown, erased)]
    assert [r.status_code for r in (created, duplicate, unknown, erased)] == [200] * 4, bodies
    assert [b["status"] for b in bodies] == ["processed", "duplicate", "processed", "processed"]
    assert (unknown.json()["erased"], erased.json()["erased"]) == (False, True)
    for body in bodies:  # oneOf: each matches exactly one kind
        _validate(body, {"$ref": "#/components/schemas/ClerkWebhookResult"})
