"""FakeOpenAI, exercised through the real ``openai`` SDK (sync and async clients)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from openai import AsyncOpenAI, OpenAI
from pydantic import BaseModel

from tests.fakes.openai_server import (
    FakeOpenAI,
    FakeReply,
    chat_completion,
    error_reply,
    pseudo_embedding,
)


class Mood(BaseModel):
    label: str
    score: float


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


def _client(fake: FakeOpenAI, **kwargs: Any) -> OpenAI:
    return OpenAI(api_key="sk-test", base_url=fake.base_url, **kwargs)


def test_chat_completion_round_trip(fake: FakeOpenAI) -> None:
    fake.chat_handler = lambda body: FakeReply(
        json=chat_completion("echo: " + body["messages"][-1]["content"], model=body["model"])
    )
    reply = _client(fake).chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi there"}]
    )
    assert reply.choices[0].message.content == "echo: hi there"
    assert reply.choices[0].finish_reason == "stop"
    assert reply.model == "gpt-4o-mini"
    [request] = fake.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-test"
    assert request.json["messages"] == [{"role": "user", "content": "hi there"}]


def test_parse_with_pydantic_response_format(fake: FakeOpenAI) -> None:
    fake.chat_handler = lambda body: FakeReply(
        json=chat_completion(Mood(label="calm", score=0.8).model_dump_json())
    )
    completion = _client(fake).chat.completions.parse(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "how do I feel?"}],
        response_format=Mood,
    )
    assert completion.choices[0].message.parsed == Mood(label="calm", score=0.8)
    response_format = fake.requests[0].json["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["strict"] is True
    assert set(response_format["json_schema"]["schema"]["properties"]) == {"label", "score"}


def test_embeddings_base64_default_are_deterministic_unit_vectors(fake: FakeOpenAI) -> None:
    client = _client(fake)
    first = client.embeddings.create(model="text-embedding-3-small", input=["a", "b"])
    again = client.embeddings.create(model="text-embedding-3-small", input="a")
    assert fake.requests[0].json["encoding_format"] == "base64"
    vectors = [item.embedding for item in first.data]
    assert len(vectors[0]) == 1536
    assert vectors[0] == again.data[0].embedding
    assert vectors[0] != vectors[1]
    assert sum(x * x for x in vectors[0]) == pytest.approx(1.0, abs=1e-5)
    assert vectors[0] == pytest.approx(pseudo_embedding("a"), abs=1e-7)


def test_embeddings_float_format_and_dimensions(fake: FakeOpenAI) -> None:
    response = _client(fake).embeddings.create(
        model="text-embedding-3-small", input=["x"], dimensions=384, encoding_format="float"
    )
    assert fake.requests[0].json["dimensions"] == 384
    assert len(response.data[0].embedding) == 384
    assert response.data[0].embedding == pytest.approx(pseudo_embedding("x", 384), abs=1e-7)


def test_scripted_429_surfaces_as_rate_limit_error(fake: FakeOpenAI) -> None:
    fake.chat_handler = lambda body: error_reply(429, "slow down", "rate_limit_error")
    with pytest.raises(openai.RateLimitError, match="slow down"):
        _client(fake, max_retries=0).chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}]
        )
    assert len(fake.requests) == 1


def test_sdk_retries_a_500_then_succeeds(fake: FakeOpenAI) -> None:
    replies = iter(
        [
            error_reply(500, "boom", headers={"retry-after-ms": "1"}),
            FakeReply(json=chat_completion("ok")),
        ]
    )
    fake.chat_handler = lambda body: next(replies)
    reply = _client(fake, max_retries=1).chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}]
    )
    assert reply.choices[0].message.content == "ok"
    assert len(fake.requests) == 2


def test_default_chat_handler_tells_the_test_to_set_one(fake: FakeOpenAI) -> None:
    with pytest.raises(openai.InternalServerError, match="chat_handler"):
        _client(fake, max_retries=0).chat.completions.create(
            model="m", messages=[{"role": "user", "content": "x"}]
        )


def test_slow_reply_times_out_client(fake: FakeOpenAI) -> None:
    fake.chat_handler = lambda body: FakeReply(json=chat_completion("late"), delay=30)
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        _client(fake, max_retries=0, timeout=0.3).chat.completions.create(
            model="m", messages=[{"role": "user", "content": "x"}]
        )
    assert time.monotonic() - started < 5


def test_garbage_body_reaches_the_sdk(fake: FakeOpenAI) -> None:
    # The SDK lets a JSON decoding error through for a truncated application/json body.
    fake.chat_handler = lambda body: FakeReply(body=b"{not json")
    with pytest.raises(ValueError, match="property name"):
        _client(fake, max_retries=0).chat.completions.create(
            model="m", messages=[{"role": "user", "content": "x"}]
        )


def test_missing_bearer_token_is_refused(fake: FakeOpenAI) -> None:
    response = httpx.post(fake.base_url + "/embeddings", json={"input": "x", "model": "m"})
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "missing bearer token"


def test_pinned_api_key_rejects_others() -> None:
    with FakeOpenAI(api_key="sk-right") as server:
        with pytest.raises(openai.AuthenticationError):
            OpenAI(api_key="sk-wrong", base_url=server.base_url, max_retries=0).embeddings.create(
                model="m", input="x"
            )
        ok = OpenAI(api_key="sk-right", base_url=server.base_url).embeddings.create(
            model="m", input="x"
        )
        assert len(ok.data) == 1


def test_unknown_path_is_404(fake: FakeOpenAI) -> None:
    response = httpx.get(fake.base_url + "/models", headers={"Authorization": "Bearer k"})
    assert response.status_code == 404
    assert fake.requests[0].path == "/v1/models"


async def test_concurrent_delayed_requests_overlap() -> None:
    """50 requests each delayed 0.3 s finish in far less than 50 x 0.3 s."""
    with FakeOpenAI(delay_seconds=0.3) as server:
        client = AsyncOpenAI(api_key="k", base_url=server.base_url, max_retries=0)
        started = time.monotonic()
        results = await asyncio.gather(
            *(client.embeddings.create(model="m", input=f"t{i}") for i in range(50))
        )
        elapsed = time.monotonic() - started
        await client.close()
    assert len(results) == 50
    assert len(server.requests) == 50
    assert elapsed < 5.0


def test_stop_ends_pending_delayed_replies_promptly() -> None:
    server = FakeOpenAI(delay_seconds=60).start()
    client = OpenAI(api_key="k", base_url=server.base_url, max_retries=0, timeout=0.2)
    with pytest.raises(openai.APITimeoutError):
        client.embeddings.create(model="m", input="x")
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 5
