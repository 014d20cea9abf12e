"""GDPR export: a job builds an encrypted archive, served through a short-lived signed URL."""

from __future__ import annotations

import io
import json
import time
import uuid
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from lifeos_gql.core.ids import decode_global_id, encode_global_id
from lifeos_gql.domains.privacy import service as privacy
from lifeos_gql.rest.exports import url_signer
from tests.conftest import make_settings
from tests.helpers import error_codes, gql
from tests.integration.privacy_world import (
    app_client,
    capture,
    new_stream,
    ok,
    rows,
    run_jobs,
    runtime_of,
    share,
    sign_in,
)

CANARY = "Quillfeather7731"
EXPORTS = "{ me { exports { id status createdAt readyAt expiresAt sizeBytes downloadUrl } } }"


@pytest.fixture
async def client(db_url: str, data_dir: Path) -> AsyncIterator[Any]:
    settings = make_settings(
        database_url=db_url, lifeos_data_dir=data_dir, lifeos_public_url="https://lifeos.test"
    )
    async with app_client(settings) as http:
        http.settings = settings  # type: ignore[attr-defined]
        yield http


def local_path(url: str) -> str:
    """The path and query of a download URL (the test client serves the app itself)."""
    parts = urlsplit(url)
    assert parts.scheme == "https" and parts.netloc == "lifeos.test", url
    return f"{parts.path}?{parts.query}"


async def test_export_builds_in_a_job_and_downloads_through_a_signed_url(client: Any) -> None:
    settings = client.settings
    token, alice = await sign_in(client, settings, "alice@example.org")
    bob_token, bob = await sign_in(client, settings, "bob@example.org")
    journal = await new_stream(client, token, "Journal")
    texts = [
        f"Met Sarah Chen from Acme Robotics in Berlin about {CANARY} and the robot arm pilot.",
        f"Sarah Chen sent the Acme Robotics budget for the {CANARY} pilot.",
    ]
    ids = [await capture(client, token, journal, body) for body in texts]
    await share(client, token, journal, "bob@example.org", "VIEWER")
    persona = (await ok(client, 'mutation { createPersona(name: "Writing") { id } }', token))[
        "createPersona"
    ]["id"]
    add = (
        f'mutation {{ addStreamToPersona(personaId: "{persona}", streamId: "{journal}") {{ id }} }}'
    )
    await ok(client, add, token)
    runtime = runtime_of(client)
    await run_jobs(runtime, ["analysis"])

    requested = (await ok(client, "mutation { exportMyData { id status downloadUrl } }", token))[
        "exportMyData"
    ]
    assert requested["status"] == "PENDING" and requested["downloadUrl"] is None
    # Asking again while it builds returns the same export, not a second build.
    again = (await ok(client, "mutation { exportMyData { id } }", token))["exportMyData"]
    assert again["id"] == requested["id"]
    jobs = await rows(
        runtime, "SELECT args FROM procrastinate_jobs WHERE task_name = 'lifeos.build_export'"
    )
    assert len(jobs) == 1

    await run_jobs(runtime, ["exports"])
    listed = (await ok(client, EXPORTS, token))["me"]["exports"]
    assert [e["id"] for e in listed] == [requested["id"]]
    export = listed[0]
    assert export["status"] == "READY" and export["readyAt"] and export["sizeBytes"] > 0
    # Bob sees none of Alice's exports.
    assert (await ok(client, EXPORTS, bob_token))["me"]["exports"] == []

    # At rest the archive is ciphertext: the canary is nowhere in the chunks.
    chunks = await rows(runtime, "SELECT data_enc FROM export_chunks")
    assert chunks and all(CANARY.encode() not in bytes(c.data_enc) for c in chunks)

    url = export["downloadUrl"]
    query = parse_qs(urlsplit(url).query)
    assert 14 * 60 <= int(query["expires"][0]) - time.time() <= 15 * 60 + 5
    response = await client.get(local_path(url))  # no Authorization header
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = set(archive.namelist())
    assert {
        "manifest.json",
        "profile.json",
        "streams.json",
        "captures.json",
        "insights.json",
        "concepts.json",
        "edges.json",
        "grants_given.json",
        "grants_received.json",
        "api_tokens.json",
        "personas.json",
        "share_links.json",
        "audit.json",
        "README.txt",
    } <= names

    def load(name: str) -> Any:
        return json.loads(archive.read(name))

    assert load("profile.json")["email"] == "alice@example.org"
    [exported_persona] = load("personas.json")
    assert exported_persona["name"] == "Writing"
    assert exported_persona["stream_ids"] == [str(decode_global_id(journal).id)]
    captures = load("captures.json")
    assert sorted(c["id"] for c in captures) == sorted(str(i) for i in ids)
    assert all(CANARY in c["content"] for c in captures)  # decrypted
    insights = load("insights.json")
    assert insights and all(i["text"] for i in insights)
    assert set(load("manifest.json")["counts"]) >= {"captures.json", "insights.json"}
    assert any(c["name"] == "Sarah Chen" for c in load("concepts.json"))
    assert load("edges.json")
    assert [g["grantee_id"] for g in load("grants_given.json")] == [str(bob)]
    actions = [row["action"] for row in load("audit.json")]
    # The archive holds the trail up to its own request (its completion comes after).
    assert actions[0] == "stream.create" and actions[-1] == "export.requested"

    # The download is audited in Alice's (pseudonymous) chain.
    audited = await rows(
        runtime,
        "SELECT action, chain_id FROM audit_log WHERE action LIKE 'export.%' ORDER BY id",
    )
    assert [a.action for a in audited] == ["export.requested", "export.ready", "export.downloaded"]
    assert len({a.chain_id for a in audited}) == 1 and str(alice) not in audited[0].chain_id


async def test_download_links_are_checked_before_anything_is_read(client: Any) -> None:
    settings = client.settings
    token, _ = await sign_in(client, settings, "alice@example.org")
    await ok(client, "mutation { exportMyData { id } }", token)
    runtime = runtime_of(client)
    await run_jobs(runtime, ["exports"])
    export = (await ok(client, EXPORTS, token))["me"]["exports"][0]
    good = local_path(export["downloadUrl"])
    path, _, query = good.partition("?")
    params = parse_qs(query)
    expires, sig = params["expires"][0], params["sig"][0]

    async def status(url: str) -> tuple[int, Any]:
        response = await client.get(url)
        return response.status_code, response.json()

    forged = "0" * len(sig)
    code, body = await status(f"{path}?expires={expires}&sig={forged}")
    assert code == 403 and body["errors"][0]["extensions"]["reason"] == "bad_signature"
    # A later expiry with the old signature is a forgery too.
    code, body = await status(f"{path}?expires={int(expires) + 3600}&sig={sig}")
    assert code == 403 and body["errors"][0]["extensions"]["reason"] == "bad_signature"
    code, body = await status(path)
    assert code == 403 and body["errors"][0]["extensions"]["reason"] == "malformed_link"

    signer = url_signer(runtime)
    old_expires, old_sig = signer.sign(export["id"], now=time.time() - 3600)
    code, body = await status(f"{path}?expires={old_expires}&sig={old_sig}")
    assert code == 403 and body["errors"][0]["extensions"]["reason"] == "link_expired"

    # A genuine signature for an export that does not exist: 404, as for any hidden one.
    ghost = encode_global_id("Export", uuid.uuid4())
    g_expires, g_sig = signer.sign(ghost)
    code, body = await status(f"/v1/exports/{ghost}?expires={g_expires}&sig={g_sig}")
    assert code == 404 and body["errors"][0]["extensions"]["code"] == "NOT_FOUND"

    # An expired export (past its 7 days) is gone even with a fresh link.
    await rows(runtime, "UPDATE exports SET expires_at = now() - interval '1 second'")
    listed = (await ok(client, EXPORTS, token))["me"]["exports"][0]
    assert listed["status"] == "EXPIRED" and listed["downloadUrl"] is None
    e_expires, e_sig = signer.sign(export["id"])
    code, _ = await status(f"{path}?expires={e_expires}&sig={e_sig}")
    assert code == 404
    # Nothing was downloaded, so nothing was audited as downloaded.
    assert not await rows(runtime, "SELECT 1 FROM audit_log WHERE action = 'export.downloaded'")

    # A new request drops the expired archive's chunks.
    await ok(client, "mutation { exportMyData { id } }", token)
    left = await rows(
        runtime,
        "SELECT count(*) AS n FROM export_chunks c JOIN exports e ON e.id = c.export_id"
        " WHERE e.status = 'EXPIRED'",
    )
    assert left[0].n == 0


async def test_export_needs_a_user(client: Any) -> None:
    body = await gql(client, "mutation { exportMyData { id } }")
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert privacy.EXPORT_TTL.days == 7
