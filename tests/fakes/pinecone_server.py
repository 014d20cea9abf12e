"""A local fake of Pinecone's data plane, spoken over real HTTP on 127.0.0.1.

Implements the paths the ``pinecone`` 10.x SDK calls for a dense, cosine
index (shapes checked against the SDK's request builders and the msgspec
response models it decodes into):

* ``POST /vectors/upsert``  ``{"vectors": [{"id", "values", "metadata"}], "namespace"}``
  -> ``{"upsertedCount"}``
* ``POST /query``  ``{"topK", "vector" | "id", "namespace", "filter", "includeValues",
  "includeMetadata"}`` -> ``{"matches": [{"id", "score", "values", "metadata"}],
  "namespace", "usage": {"readUnits"}}``
* ``POST /vectors/delete``  ``{"namespace", "ids" | "deleteAll" | "filter"}`` -> ``{}``
* ``GET /vectors/fetch?ids=..&ids=..&namespace=..`` -> ``{"vectors": {id: {...}}, ...}``
* ``POST /describe_index_stats`` -> ``{"namespaces": {ns: {"vectorCount"}}, "dimension",
  "totalVectorCount", ...}``

Like Pinecone it checks the ``Api-Key`` header (401), the dimension (400),
metadata types (400; no nulls, no nested objects), request limits (400) and
answers 404 when deleting from a namespace that does not exist. Every request
is recorded, and ``fail_next`` makes the next requests answer an error status
so retry and error mapping can be tested.
"""

from __future__ import annotations

import json
import math
import threading
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

MAX_UPSERT_VECTORS = 1000
MAX_DELETE_IDS = 1000
MAX_TOP_K = 10_000
DEFAULT_NAMESPACE_LABEL = "__default__"  # how describe_index_stats names namespace ""


class FakePineconeError(Exception):
    """Turns into an HTTP error answer with Pinecone's gRPC-style error body."""

    GRPC_CODES = {400: 3, 404: 5}

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def body(self) -> dict[str, Any]:
        if self.status == 401:
            return {"error": {"code": "UNAUTHENTICATED", "message": self.message}, "status": 401}
        return {"code": self.GRPC_CODES.get(self.status, 2), "message": self.message, "details": []}


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it (header names lower-cased)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class StoredVector:
    values: list[float]
    metadata: dict[str, Any]


@dataclass
class _Failure:
    remaining: int
    status: int
    retry_after: float | None
    path: str | None


# ---------------------------------------------------------------- filters


def matches_filter(metadata: dict[str, Any], flt: dict[str, Any]) -> bool:
    """Evaluate a Pinecone metadata filter; raises FakePineconeError(400) when malformed."""
    if not isinstance(flt, dict):
        raise FakePineconeError(400, "filter must be an object")
    for key, condition in flt.items():
        if key in ("$and", "$or"):
            if not isinstance(condition, list) or not condition:
                raise FakePineconeError(400, f"{key} needs a non-empty list of filters")
            results = [matches_filter(metadata, sub) for sub in condition]
            if not (all(results) if key == "$and" else any(results)):
                return False
        elif key.startswith("$"):
            raise FakePineconeError(400, f"unknown top-level operator {key}")
        elif not _field_matches(metadata, key, condition):
            return False
    return True


def _field_matches(metadata: dict[str, Any], name: str, condition: Any) -> bool:
    operators = condition if isinstance(condition, dict) else {"$eq": condition}
    if not operators:
        raise FakePineconeError(400, f"empty condition on {name}")
    present = name in metadata
    value: Any = metadata.get(name)
    # A list field matches an equality test when any of its elements does.
    elements = value if isinstance(value, list) else [value]
    for op, operand in operators.items():
        if op in ("$eq", "$ne"):
            _require_scalar(op, operand)
            hit = present and operand in elements
            ok = hit if op == "$eq" else not hit
        elif op in ("$in", "$nin"):
            if not isinstance(operand, list) or not operand:
                raise FakePineconeError(400, f"{op} needs a non-empty list")
            hit = present and any(e in operand for e in elements)
            ok = hit if op == "$in" else not hit
        elif op in ("$gt", "$gte", "$lt", "$lte"):
            if not _is_number(operand):
                raise FakePineconeError(400, f"{op} needs a number")
            ok = present and _is_number(value) and _compare(op, value, operand)
        elif op == "$exists":
            if not isinstance(operand, bool):
                raise FakePineconeError(400, "$exists needs a boolean")
            ok = present == operand
        else:
            raise FakePineconeError(400, f"unknown operator {op}")
        if not ok:
            return False
    return True


def _require_scalar(op: str, operand: Any) -> None:
    if not (isinstance(operand, str | bool) or _is_number(operand)):
        raise FakePineconeError(400, f"{op} needs a string, number or boolean")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _compare(op: str, value: float, operand: float) -> bool:
    return {
        "$gt": value > operand,
        "$gte": value >= operand,
        "$lt": value < operand,
        "$lte": value <= operand,
    }[op]


def _cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


# ---------------------------------------------------------------- the fake


class FakePinecone:
    """Fake Pinecone index host; use as a context manager, point the SDK at ``.host``."""

    def __init__(self, *, api_key: str = "fake-pinecone-key", dimension: int | None = None):
        self.api_key = api_key
        self._initial_dimension = dimension
        self.dimension = dimension  # None: the first upsert fixes it, as index creation would
        self._namespaces: dict[str, dict[str, StoredVector]] = {}
        self._requests: list[RecordedRequest] = []
        self._failures: list[_Failure] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle

    def __enter__(self) -> FakePinecone:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        # A short poll interval keeps shutdown (once per test) fast.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    @property
    def host(self) -> str:
        """``http://127.0.0.1:PORT`` — pass as the index host."""
        assert self._server is not None, "use FakePinecone as a context manager"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # -- test controls and inspection

    def fail_next(
        self,
        count: int,
        *,
        status: int = 503,
        retry_after: float | None = None,
        path: str | None = None,
    ) -> None:
        """Answer the next ``count`` requests (to ``path``, if given) with ``status``."""
        with self._lock:
            self._failures.append(_Failure(count, status, retry_after, path))

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_to(self, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == path]

    def reset(self) -> None:
        """Forget all vectors, recorded requests and pending failures."""
        with self._lock:
            self._namespaces.clear()
            self._requests.clear()
            self._failures.clear()
            self.dimension = self._initial_dimension

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def namespace(self, name: str) -> dict[str, StoredVector]:
        """A copy of what one namespace holds."""
        with self._lock:
            return dict(self._namespaces.get(name, {}))

    # -- request handling (called from server threads)

    def handle(self, req: RecordedRequest) -> tuple[int, dict[str, str], Any]:
        with self._lock:
            self._requests.append(req)
            failure = self._take_failure(req.path)
            if failure is not None:
                headers = {}
                if failure.retry_after is not None:
                    headers["Retry-After"] = f"{failure.retry_after:g}"
                return failure.status, headers, {"code": 14, "message": "injected failure"}
            try:
                if req.headers.get("api-key") != self.api_key:
                    raise FakePineconeError(401, "Invalid API Key")
                route = _ROUTES.get((req.method, req.path))
                if route is None:
                    raise FakePineconeError(404, f"no route {req.method} {req.path}")
                return 200, {}, route(self, req)
            except FakePineconeError as exc:
                return exc.status, {}, exc.body()

    def _take_failure(self, path: str) -> _Failure | None:
        for failure in self._failures:
            if failure.path in (None, path):
                failure.remaining -= 1
                if failure.remaining <= 0:
                    self._failures.remove(failure)
                return failure
        return None

    def _check_vector(self, values: Any, what: str, *, adopt: bool) -> list[float]:
        if not isinstance(values, list) or not values or not all(map(_is_number, values)):
            raise FakePineconeError(400, f"{what}: values must be a non-empty list of numbers")
        if self.dimension is None and adopt:
            self.dimension = len(values)
        if self.dimension is not None and len(values) != self.dimension:
            raise FakePineconeError(
                400,
                f"{what}: Vector dimension {len(values)} does not match the dimension "
                f"of the index {self.dimension}",
            )
        if not any(v != 0 for v in values):
            raise FakePineconeError(400, f"{what}: Dense vectors must contain a non-zero value")
        return [float(v) for v in values]

    def _upsert(self, req: RecordedRequest) -> dict[str, Any]:
        vectors = _body(req).get("vectors")
        if not isinstance(vectors, list) or not vectors:
            raise FakePineconeError(400, "vectors must be a non-empty list")
        if len(vectors) > MAX_UPSERT_VECTORS:
            raise FakePineconeError(400, f"at most {MAX_UPSERT_VECTORS} vectors per upsert")
        staged: dict[str, StoredVector] = {}
        for item in vectors:
            vid = item.get("id") if isinstance(item, dict) else None
            if not isinstance(vid, str) or not vid:
                raise FakePineconeError(400, "every vector needs a non-empty string id")
            values = self._check_vector(item.get("values"), f"vector {vid}", adopt=True)
            staged[vid] = StoredVector(values, _check_metadata(item.get("metadata") or {}))
        self._namespaces.setdefault(_namespace(req), {}).update(staged)
        return {"upsertedCount": len(staged)}

    def _query(self, req: RecordedRequest) -> dict[str, Any]:
        body = _body(req)
        top_k = body.get("topK")
        if not isinstance(top_k, int) or not 1 <= top_k <= MAX_TOP_K:
            raise FakePineconeError(400, f"topK must be between 1 and {MAX_TOP_K}")
        stored = self._namespaces.get(_namespace(req), {})
        if ("vector" in body) == ("id" in body):
            raise FakePineconeError(400, "exactly one of vector and id is required")
        if "id" in body:
            origin = stored.get(body["id"])
            query = origin.values if origin else None
        else:
            query = self._check_vector(body["vector"], "query", adopt=False)
        flt = body.get("filter")
        hits: list[tuple[float, str, StoredVector]] = []
        for vid, vec in stored.items():
            if flt is not None and not matches_filter(vec.metadata, flt):
                continue
            if query is not None:
                hits.append((_cosine(query, vec.values), vid, vec))
        hits.sort(key=lambda h: (-h[0], h[1]))
        matches = []
        for score, vid, vec in hits[:top_k]:
            match: dict[str, Any] = {"id": vid, "score": score, "values": []}
            if body.get("includeValues"):
                match["values"] = vec.values
            if body.get("includeMetadata"):
                match["metadata"] = vec.metadata
            matches.append(match)
        return {"matches": matches, "namespace": _namespace(req), "usage": {"readUnits": 1}}

    def _delete(self, req: RecordedRequest) -> dict[str, Any]:
        body = _body(req)
        selectors = [k for k in ("ids", "deleteAll", "filter") if body.get(k)]
        if len(selectors) != 1:
            raise FakePineconeError(400, "exactly one of ids, deleteAll and filter is required")
        name = _namespace(req)
        if name not in self._namespaces:
            raise FakePineconeError(404, "Namespace not found")
        stored = self._namespaces[name]
        if selectors == ["ids"]:
            ids = body["ids"]
            if not isinstance(ids, list) or len(ids) > MAX_DELETE_IDS:
                raise FakePineconeError(400, f"ids must be a list of at most {MAX_DELETE_IDS}")
            doomed = [i for i in ids if i in stored]
        elif selectors == ["filter"]:
            doomed = [i for i, v in stored.items() if matches_filter(v.metadata, body["filter"])]
        else:
            doomed = list(stored)
        for vid in doomed:
            del stored[vid]
        if not stored:
            del self._namespaces[name]
        return {}

    def _fetch(self, req: RecordedRequest) -> dict[str, Any]:
        ids = req.query.get("ids")
        if not ids:
            raise FakePineconeError(400, "ids is required")
        name = req.query.get("namespace", [""])[0]
        stored = self._namespaces.get(name, {})
        found = {
            i: {"id": i, "values": stored[i].values, "metadata": stored[i].metadata}
            for i in ids
            if i in stored
        }
        return {"vectors": found, "namespace": name, "usage": {"readUnits": 1}}

    def _stats(self, req: RecordedRequest) -> dict[str, Any]:
        if _body(req).get("filter"):
            raise FakePineconeError(400, "describe_index_stats does not support a filter")
        namespaces = {
            (name or DEFAULT_NAMESPACE_LABEL): {"vectorCount": len(vectors)}
            for name, vectors in self._namespaces.items()
        }
        return {
            "namespaces": namespaces,
            "dimension": self.dimension,
            "indexFullness": 0.0,
            "totalVectorCount": sum(len(v) for v in self._namespaces.values()),
            "metric": "cosine",
            "vectorType": "dense",
        }


def _body(req: RecordedRequest) -> dict[str, Any]:
    if not isinstance(req.body, dict):
        raise FakePineconeError(400, "request body must be a JSON object")
    return req.body


def _namespace(req: RecordedRequest) -> str:
    name = _body(req).get("namespace", "")
    if not isinstance(name, str):
        raise FakePineconeError(400, "namespace must be a string")
    return name


def _check_metadata(metadata: Any) -> dict[str, Any]:
    if not isinstance(metadata, dict):
        raise FakePineconeError(400, "metadata must be an object")
    for key, value in metadata.items():
        ok = (
            isinstance(value, str | bool)
            or (_is_number(value) and math.isfinite(value))
            or (isinstance(value, list) and all(isinstance(v, str) for v in value))
        )
        if not ok:
            raise FakePineconeError(
                400,
                f"Metadata value for field {key} must be a string, number, boolean "
                "or list of strings",
            )
    return dict(metadata)


_ROUTES = {
    ("POST", "/vectors/upsert"): FakePinecone._upsert,
    ("POST", "/query"): FakePinecone._query,
    ("POST", "/vectors/delete"): FakePinecone._delete,
    ("GET", "/vectors/fetch"): FakePinecone._fetch,
    ("POST", "/describe_index_stats"): FakePinecone._stats,
}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's pooled httpx client expects
    disable_nagle_algorithm = True  # headers and body go out in two writes: avoid 40 ms stalls
    fake: FakePinecone

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        req = RecordedRequest(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        status, headers, payload = self.fake.handle(req)
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-pinecone-request-id", uuid.uuid4().hex)
        for name, value in headers.items():
            self.send_header(name, value)
        try:
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (e.g. a cancelled sibling batch); nothing to answer.
            self.close_connection = True
