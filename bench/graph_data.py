"""A realistic knowledge graph for one user, written straight into Postgres.

``make bench-data`` (``python bench/graph_data.py``) fills an embedded
Postgres under ``bench/data/`` (git-ignored, kept between runs) with, for
one dev user (``bench@example.com``):

* 20 streams of Zipf-distributed sizes and 100,000 captures over three
  years, each about one of 40 life topics, its title and content encrypted
  with the user's real data key (the project's ``KeyService`` and
  ``RowSealer``), so the API reads them like any other capture; the
  ``search`` tsvector is built from the same plaintext the way the analysis
  builds it (``search_index``: title weight A, content B);
* 10,000 concepts (people, places, organisations, topics, works, events)
  with the project's own normalised names and match keys;
* 10,000 insights (encrypted text, 1–3 source captures, lineage rows);
* 1,000,000 edges with a heavy-tailed degree distribution: MENTIONS
  (concept popularity is Zipf, so a few concepts are hubs), RELATED_TO
  (a fitness model: each capture links to earlier captures of its topic
  with probability proportional to a Pareto "fitness", which gives
  preferential-attachment-like hubs and a long tail), DERIVED_FROM,
  CO_OCCURS counted from the mentions themselves, a few USER links, and
  2% superseded history rows (so ``asOf`` queries have something to see);
* 20,000 capture embeddings (384-d) under the local embedder's producer
  name, clustered around each topic's real MiniLM embedding when the model
  is installed (random centroids otherwise).

The same ``--seed`` gives the same ids, plaintext and graph (ciphertexts
differ: nonces are random). Rows go in with binary ``COPY``; the tables'
secondary indexes are dropped for the load and re-created from their own
definitions (``pg_indexes``) in the same transaction, the way a restore
does. ``bench/data/graph-manifest.json`` records the shape, the seed and the
timings; a second run with the same shape does nothing (``--force``
regenerates).

    python bench/graph_data.py [--seed 7] [--captures 100000] [--force]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import struct
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import psycopg

from lifeos_gql.bootstrap import open_runtime
from lifeos_gql.config import Settings
from lifeos_gql.db.urls import libpq_url
from lifeos_gql.domains.captures.sealing import RowSealer, content_hash, content_hash_key
from lifeos_gql.domains.captures.search_index import SEARCH_CONFIG
from lifeos_gql.domains.graph.normalise import match_key, normalise_name
from lifeos_gql.domains.insights.sealing import fingerprint, seal_text
from lifeos_gql.domains.users import service as users
from lifeos_gql.infra.auth.dev_issuer import DEV_ISSUER, dev_subject

BENCH_DIR = Path(__file__).resolve().parent
DATA_DIR = BENCH_DIR / "data"
MANIFEST = "graph-manifest.json"
EMAIL = "bench@example.com"
GENERATOR_VERSION = 2
START = datetime(2023, 1, 1, tzinfo=UTC)
SPAN_DAYS = 3 * 365
IntArray = np.ndarray[Any, np.dtype[np.int64]]
FloatArray = np.ndarray[Any, np.dtype[np.float64]]


@dataclass(frozen=True, slots=True)
class Shape:
    """How much to generate; the manifest records it."""

    seed: int = 7
    streams: int = 20
    captures: int = 100_000
    concepts: int = 10_000
    insights: int = 10_000
    edges: int = 1_000_000
    embedded: int = 20_000


# ---- vocabulary -------------------------------------------------------------

TOPICS: list[tuple[str, str]] = [
    ("Running", "run pace tempo marathon trail miles legs stretch shoes intervals race"),
    ("Garden", "garden tomatoes compost seedlings soil watering roses pruning beds harvest"),
    ("Product launch", "launch roadmap release customers feedback metrics deadline beta scope"),
    ("Team meetings", "meeting agenda standup decisions actions team manager notes sync"),
    ("Travel to Japan", "kyoto tokyo train temple ramen ryokan shrine itinerary jet lag"),
    ("Family", "mum dad sister kids birthday dinner visit grandparents holidays call"),
    ("Reading", "book chapter author novel highlight library essay reread fiction notes"),
    ("Money", "budget savings invoice taxes pension spending rent mortgage salary bills"),
    ("Sleep", "sleep bedtime insomnia nap dreams rested tired alarm melatonin routine"),
    ("Cooking", "recipe bread sourdough soup spices oven dough lentils curry bake"),
    ("Music", "guitar chords practice song concert playlist piano scales album band"),
    ("Health", "doctor bloodwork blood pressure vitamins checkup symptoms clinic dentist"),
    ("Learning", "course lecture exercises flashcards study exam notes tutor homework"),
    ("Home repairs", "plumber leak paint drill shelves boiler tiles roof insulation window"),
    ("Friendships", "friends coffee catch up message party laugh support lunch visit"),
    ("Mental models", "inversion first principles tradeoffs incentives leverage compounding"),
    ("Writing", "draft essay outline edit publish blog paragraph words rewrite voice"),
    ("Cycling", "bike ride climb cadence gravel puncture saddle route descent wind"),
    ("Meditation", "meditation breath attention calm retreat mindfulness sitting focus"),
    ("Hiring", "candidate interview role offer onboarding references panel hiring"),
    ("Climate", "emissions solar heat pump insulation carbon footprint energy bill"),
    ("Parenting", "school homework bedtime toddler tantrum playground nursery teacher"),
    ("Investing", "stocks index fund portfolio dividends rebalance bonds returns risk"),
    ("Photography", "camera lens light exposure portrait landscape edit print film"),
    ("Side project", "prototype code repository deploy users bug feature weekend hack"),
    ("Nutrition", "protein vegetables fasting breakfast sugar calories fibre meals"),
    ("Language learning", "japanese kanji vocabulary grammar lesson speaking listening"),
    ("Relationships", "partner date anniversary argument listening gratitude trust time"),
    ("Career", "promotion review goals feedback mentor growth strategy skills plan"),
    ("Volunteering", "charity shelter volunteer donation community food bank shift"),
    ("Moving house", "boxes movers lease keys packing address utilities neighbours"),
    ("Podcasts", "episode host interview guest listen podcast recommendation series"),
    ("Board games", "game night strategy dice cards rules opponent score tabletop"),
    ("Swimming", "pool laps freestyle breathing lane open water goggles stroke"),
    ("Conference", "talk slides keynote speaker venue workshop networking badge"),
    ("Pets", "dog walk vet leash puppy training food cat litter grooming"),
    ("Art", "museum exhibition painting sketch gallery sculpture colour canvas"),
    ("Productivity", "focus inbox calendar priorities habits todo deep work timeboxing"),
    ("Hiking", "hike summit trail boots map ridge valley camping backpack views"),
    ("Politics", "election vote policy debate news council campaign parliament"),
]


def _words(text: str) -> list[str]:
    """A word list written as one string (easier to read than a list of literals)."""
    return text.split()


GENERAL = _words(
    "today yesterday morning evening week felt thought noticed remember idea plan talked "
    "later again really maybe finally started finished tried better worse quick long small "
    "big good hard easy important interesting worried happy tired glad surprised"
)
FIRST = _words(
    "Jane John Maria Ahmed Li Sofia Lucas Emma Noah Olivia Liam Ava Mateo Mia Ethan Amara "
    "Yuki Ravi Chloe Leo Zara Omar Ines Hugo Nora Felix Elena Ivan Priya Tomas Aisha Ben "
    "Clara David Eva Frank Grace Hana Isaac Julia Kofi Lena Marco Nina Oscar Paula Quinn "
    "Rosa Sam Tara Umar Vera Will Xena Yara Zoe Anton Bea Carl Dana"
)
LAST = _words(
    "Smith Jones Garcia Chen Kumar Muller Rossi Novak Silva Kim Tanaka Dubois Nowak Okafor "
    "Hansen Costa Ivanova Sato Patel Brown Wilson Moreau Lopez Schmidt Berg Walsh Murphy "
    "Fischer Romano Haddad Nakamura Park Lindqvist Kowalski Petrov Almeida Svensson Reyes "
    "Yilmaz Ortiz Bauer Clarke Evans Ward Hughes Foster Grant Hayes Kelly Lynch Mason Price "
    "Quinn Russell Stone Turner Vaughn Webb Young Zimmer Abbott Baker Carter Dixon Ellis"
)
SYLLABLES = _words(
    "ka lo mi ra ven tor bel sa no ri ta mon ful dra gen sil var os pel ni co ber al un "
    "ex qua zen dor lin mar ost tek vi"
)
SOURCES = ("email", "ebook", "document", "message", "note", "calendar", "web", "location")
STREAM_NAMES = (
    "Work email", "Kindle highlights", "Journal", "Chats", "Calendar", "Web clips",
    "Personal email", "Meeting notes", "Reading notes", "Health log", "Travel log",
    "Voice memos", "Project docs", "Family chat", "Ideas", "Finance", "Training log",
    "Bookmarks", "Letters", "Places",
)  # fmt: skip
INSIGHT_KINDS = ("key_insight", "mental_model", "summary", "pattern", "question")
CONCEPT_KINDS = (("person", 0.40), ("place", 0.15), ("organisation", 0.15), ("topic", 0.22))
CONCEPT_KINDS_REST = ("work", "event")


# ---- pure generation ---------------------------------------------------------


def uuids(rng: np.random.Generator, n: int) -> list[uuid.UUID]:
    """``n`` version-4 UUIDs drawn from ``rng`` (reproducible, unlike ``uuid4``)."""
    raw = rng.bytes(16 * n)
    return [uuid.UUID(bytes=raw[i : i + 16], version=4) for i in range(0, 16 * n, 16)]


def zipf_weights(n: int, s: float) -> FloatArray:
    """Probabilities proportional to ``1 / rank**s``."""
    w = 1.0 / np.arange(1, n + 1, dtype=np.float64) ** s
    return np.asarray(w / w.sum(), dtype=np.float64)


def concept_names(rng: np.random.Generator, n: int) -> list[tuple[str, str, str]]:
    """``n`` (kind, name, normalised name) triples, unique per (kind, normalised name)."""
    seen: set[tuple[str, str]] = set()
    out: list[tuple[str, str, str]] = []
    kinds = [k for k, _ in CONCEPT_KINDS]
    quotas = {k: int(n * share) for k, share in CONCEPT_KINDS}
    rest = n - sum(quotas.values())
    quotas[CONCEPT_KINDS_REST[0]] = rest // 2
    quotas[CONCEPT_KINDS_REST[1]] = rest - rest // 2
    topic_words = sorted({w for _, ws in TOPICS for w in ws.split()})

    def word() -> str:
        k = int(rng.integers(2, 4))
        return "".join(SYLLABLES[int(i)] for i in rng.integers(0, len(SYLLABLES), k)).title()

    makers: dict[str, Callable[[], str]] = {
        "person": lambda: f"{FIRST[rng.integers(len(FIRST))]} {LAST[rng.integers(len(LAST))]}",
        "place": lambda: word() + rng.choice(["", " Bay", " Hill", " Park", " Street"]),
        "organisation": lambda: word() + rng.choice([" Labs", " Studio", " Bank", " School"]),
        "topic": lambda: " ".join(rng.choice(topic_words, size=int(rng.integers(1, 3)))),
        "work": lambda: "The " + word() + " " + rng.choice(["Book", "Essay", "Album", "Film"]),
        "event": lambda: word() + " " + rng.choice(["Festival", "Summit", "Wedding", "Trip"]),
    }
    for kind in [*kinds, *CONCEPT_KINDS_REST]:
        made, attempts = 0, 0
        while made < quotas[kind]:
            attempts += 1
            name = str(makers[kind]())
            if kind == "person" and attempts > 3 * quotas[kind]:
                name += f" {word()}"  # first x last pairs run out: add a middle name
            key = normalise_name(name, kind)
            if key and (kind, key) not in seen:
                seen.add((kind, key))
                out.append((kind, name, key))
                made += 1
    return out


def fitness_targets(
    rng: np.random.Generator, members: IntArray, fitness: FloatArray, sources: IntArray
) -> IntArray:
    """For each source position in ``members``, an earlier member chosen ∝ fitness.

    ``members`` are capture indexes in time order; ``sources`` are positions
    (>= 1) into it. A heavy-tailed fitness makes a few old captures hubs.
    """
    cum = np.cumsum(fitness[members])
    u = rng.random(len(sources)) * cum[sources - 1]
    pos = np.minimum(np.searchsorted(cum, u, side="right"), sources - 1)
    return np.asarray(members[pos], dtype=np.int64)


def unique_pairs(a: IntArray, b: IntArray, width: int) -> tuple[IntArray, IntArray]:
    """Distinct (a, b) pairs, self-pairs removed."""
    keep = a != b
    key = np.unique(a[keep] * width + b[keep])
    return key // width, key % width


# ---- COPY helpers --------------------------------------------------------------


def jsonb(value: Any) -> bytes:
    """A jsonb value in COPY's binary format (version byte 1, then the text)."""
    return b"\x01" + orjson.dumps(value)


def vector_bytes(values: FloatArray) -> bytes:
    """A pgvector value in its binary format (dim, unused, big-endian float4s)."""
    return struct.pack(">HH", len(values), 0) + values.astype(">f4").tobytes()


def copy_rows(
    cur: psycopg.Cursor[Any],
    table: str,
    columns: Sequence[str],
    types: Sequence[str],
    rows: Iterable[Sequence[Any]],
) -> int:
    """Binary COPY of ``rows`` into ``table``; returns the row count.

    jsonb and vector columns are sent pre-encoded as ``bytea``: binary COPY
    carries no type per field, so the target column's receive function
    reads the bytes.
    """
    count = 0
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(list(types))
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


_SECONDARY_INDEXES = """
SELECT i.indexname, i.indexdef FROM pg_indexes i
JOIN pg_class c ON c.relname = i.indexname AND c.relkind = 'i'
WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = c.oid)
ORDER BY i.indexname
"""
LOADED_TABLES = ["captures", "concepts", "insights", "insight_sources", "edges", "embeddings"]


# ---- the generator -------------------------------------------------------------


class Generator:
    """Builds every table's rows from one seeded RNG (plaintext, ids, graph)."""

    def __init__(self, shape: Shape, owner: uuid.UUID) -> None:
        self.shape = shape
        self.owner = owner
        self.rng = np.random.default_rng(shape.seed)
        rng, n = self.rng, shape.captures
        self.stream_ids = uuids(rng, shape.streams)
        self.capture_ids = uuids(rng, n)
        self.concept_ids = uuids(rng, shape.concepts)
        self.insight_ids = uuids(rng, shape.insights)
        # Captures in time order: index i happened before index j when i < j.
        offsets = np.sort(rng.random(n)) * SPAN_DAYS * 86_400
        self.occurred = [START + timedelta(seconds=float(s)) for s in offsets]
        self.captured = [
            t + timedelta(seconds=float(d)) for t, d in zip(self.occurred, rng.exponential(600, n))
        ]
        self.stream_of = rng.choice(shape.streams, size=n, p=zipf_weights(shape.streams, 0.8))
        # Each stream leans to a few topics; a capture's topic follows its stream.
        topics = len(TOPICS)
        lean = rng.dirichlet(np.full(topics, 0.3), size=shape.streams)
        self.topic_of = np.array(
            [rng.choice(topics, p=lean[s]) for s in self.stream_of], dtype=np.int64
        )
        self.concepts = concept_names(rng, shape.concepts)

    # -- graph structure ---------------------------------------------------------

    def mentions(self) -> tuple[IntArray, IntArray]:
        """(capture, concept) MENTIONS pairs: Zipf hubs overall and per topic."""
        rng, n, k = self.rng, self.shape.captures, self.shape.concepts
        per = np.minimum(1 + rng.poisson(3.6, n), 12)
        cap = np.repeat(np.arange(n), per)
        # Concepts are dealt to topics; a mention picks a popular concept of its
        # capture's topic (Zipf within the topic) or a global hub (Zipf overall).
        by_topic = np.array_split(rng.permutation(k), len(TOPICS))
        local = np.empty(len(cap), dtype=np.int64)
        topic = self.topic_of[cap]
        for t, members in enumerate(by_topic):
            hit = np.flatnonzero(topic == t)
            local[hit] = members[
                rng.choice(len(members), size=len(hit), p=zipf_weights(len(members), 1.0))
            ]
        hubs = rng.permutation(k)
        global_pick = hubs[rng.choice(k, size=len(cap), p=zipf_weights(k, 1.1))]
        concept = np.where(rng.random(len(cap)) < 0.3, global_pick, local)
        return unique_pairs(cap, concept, k)

    def related(self) -> tuple[IntArray, IntArray]:
        """(later capture, earlier capture) RELATED_TO pairs from the fitness model."""
        rng, n = self.rng, self.shape.captures
        fitness = rng.pareto(1.3, n) + 0.05
        per = np.minimum(rng.poisson(3.4, n), 20)
        src, dst = [], []
        for t in range(len(TOPICS)):
            members = np.flatnonzero(self.topic_of == t)
            positions = np.repeat(np.arange(len(members)), per[members])
            positions = positions[positions >= 1]
            src.append(members[positions])
            dst.append(fitness_targets(rng, members, fitness, positions))
        # 15% of links cross topics: any earlier capture, still ∝ fitness.
        cross = np.flatnonzero(rng.random(n) < 0.15)
        cross = cross[cross >= 1]
        src.append(cross)
        dst.append(fitness_targets(rng, np.arange(n), fitness, cross))
        return unique_pairs(np.concatenate(src), np.concatenate(dst), n)

    def insight_sources(self) -> tuple[IntArray, IntArray]:
        """(insight, capture) lineage: an anchor and up to two earlier captures of its stream."""
        rng, n = self.rng, self.shape.captures
        anchors = rng.choice(n, size=self.shape.insights, replace=False)
        order = np.lexsort((np.arange(n), self.stream_of))  # by stream, then time
        rank = np.empty(n, dtype=np.int64)
        rank[order] = np.arange(n)
        ins, cap = [], []
        for i, a in enumerate(anchors):
            extra = int(rng.choice(3, p=[0.5, 0.3, 0.2]))
            chosen = [int(a)]
            for back in range(1, extra + 1):
                j = rank[a] - back
                if j >= 0 and self.stream_of[order[j]] == self.stream_of[a]:
                    chosen.append(int(order[j]))
            ins += [i] * len(chosen)
            cap += chosen
        return np.array(ins, dtype=np.int64), np.array(cap, dtype=np.int64)

    def co_occurrences(
        self, m_cap: IntArray, m_con: IntArray, budget: int
    ) -> tuple[IntArray, IntArray, IntArray, IntArray]:
        """(from concept, to concept, count, first capture) of the most frequent pairs.

        Counted from the mentions themselves; smaller concept id first, as the
        analysis stores them; the ``budget`` most frequent pairs are kept.
        """
        k = self.shape.concepts
        order = np.argsort(m_cap, kind="stable")
        caps, cons = m_cap[order], m_con[order]
        starts = np.flatnonzero(np.r_[True, caps[1:] != caps[:-1]])
        sizes = np.diff(np.r_[starts, len(caps)])
        a_parts, b_parts, c_parts = [], [], []
        for size in range(2, int(sizes.max()) + 1):
            groups = starts[sizes == size]
            if len(groups) == 0:
                continue
            ii, jj = np.triu_indices(size, 1)
            a_parts.append(cons[groups[:, None] + ii].ravel())
            b_parts.append(cons[groups[:, None] + jj].ravel())
            c_parts.append(np.repeat(caps[groups], len(ii)))
        a, b, c = np.concatenate(a_parts), np.concatenate(b_parts), np.concatenate(c_parts)
        id_rank = np.argsort(np.argsort([u.int for u in self.concept_ids]))
        swap = id_rank[a] > id_rank[b]
        a, b = np.where(swap, b, a), np.where(swap, a, b)
        keys, counts = np.unique(a * k + b, return_counts=True)
        first_capture = np.full(len(keys), np.iinfo(np.int64).max)
        inverse = np.searchsorted(keys, a * k + b)
        np.minimum.at(first_capture, inverse, c)
        tie = self.rng.random(len(keys))
        keep = np.lexsort((tie, -counts))[: max(0, budget)]
        return keys[keep] // k, keys[keep] % k, counts[keep], first_capture[keep]

    # -- text ---------------------------------------------------------------------

    def capture_text(self, i: int, concept_names_of: Sequence[str]) -> tuple[str, str]:
        """Title and content of capture ``i``: topic words, filler, the concepts it names."""
        rng = self.rng
        title, words = TOPICS[int(self.topic_of[i])]
        topic_words = words.split()
        body = [
            topic_words[int(j) % len(topic_words)] if r < 0.55 else GENERAL[int(j) % len(GENERAL)]
            for j, r in zip(rng.integers(0, 1000, 44), rng.random(44))
        ]
        names = list(concept_names_of)
        for name in names:
            body.insert(int(rng.integers(0, len(body))), name)
        sentences = [" ".join(body[s : s + 11]).capitalize() + "." for s in range(0, len(body), 11)]
        return f"{title}: {topic_words[i % len(topic_words)]} #{i}", " ".join(sentences)


# ---- loading ---------------------------------------------------------------------


@dataclass(slots=True)
class Counts:
    streams: int = 0
    captures: int = 0
    concepts: int = 0
    insights: int = 0
    insight_sources: int = 0
    edges: int = 0
    edges_by_relation: dict[str, int] | None = None
    superseded_edges: int = 0
    embeddings: int = 0


async def provision(settings: Settings) -> tuple[uuid.UUID, bytes, str]:
    """The bench user (as the dev issuer names it), its data key, and the DB URL."""
    async with open_runtime(settings) as rt:
        async with rt.system_db.transaction() as uow:
            user, _ = await users.provision_user(
                uow=uow, subject=f"{DEV_ISSUER}|{dev_subject(EMAIL)}", email=EMAIL, name="Bench"
            )
        key = await rt.capture_crypto.keys.data_key_for(user.id, create=True)
        assert key is not None
        return user.id, key, rt.database_url


def topic_centroids(rng: np.random.Generator) -> tuple[FloatArray, str]:
    """Unit 384-d centroid per topic: the real model's embedding when installed."""
    from lifeos_gql.infra.embeddings.local_minilm import LocalMiniLMEmbedder

    embedder = LocalMiniLMEmbedder()
    try:
        vectors = np.asarray(embedder.embed_array([f"{t}: {w}" for t, w in TOPICS]), dtype=float)
        how = "MiniLM embeddings of the topic words"
    except Exception as exc:  # model package missing: still clustered, not meaningful
        vectors = rng.normal(size=(len(TOPICS), 384))
        how = f"random (model unavailable: {exc.__class__.__name__})"
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors, f"{embedder.name}|{how}"


def load(
    gen: Generator, data_key: bytes, db_url: str, counts: Counts
) -> tuple[dict[str, float], str]:
    """Write every table in one transaction; returns (seconds per phase, embeddings note)."""
    from lifeos_gql.infra.crypto.fields import FieldCipher

    shape, owner, rng = gen.shape, gen.owner, gen.rng
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 2)
        clock = now

    m_cap, m_con = gen.mentions()
    r_src, r_dst = gen.related()
    i_ins, i_cap = gen.insight_sources()
    lap("graph_structure")

    cipher = FieldCipher()
    sealer = RowSealer(cipher, data_key)
    hash_key = content_hash_key(data_key)
    mention_order = np.argsort(m_cap, kind="stable")
    mention_bounds = np.searchsorted(m_cap[mention_order], np.arange(shape.captures + 1))
    names = [name for _, name, _ in gen.concepts]

    with psycopg.connect(libpq_url(db_url)) as conn, conn.cursor() as cur:
        cur.execute("SET LOCAL maintenance_work_mem = '512MB'")
        cur.execute(
            "SET LOCAL session_replication_role = replica"
        )  # skip FK triggers (restore-style)
        cur.execute(_SECONDARY_INDEXES, (LOADED_TABLES,))
        indexes = cur.fetchall()
        for name, _ in indexes:
            cur.execute(f'DROP INDEX "{name}"')
        lap("drop_indexes")

        stream_rows = [
            (sid, owner, STREAM_NAMES[s % len(STREAM_NAMES)], SOURCES[s % len(SOURCES)],
             START - timedelta(days=1) + timedelta(minutes=s))
            for s, sid in enumerate(gen.stream_ids)
        ]  # fmt: skip
        counts.streams = copy_rows(
            cur, "streams", ["id", "owner_id", "name", "source", "created_at"],
            ["uuid", "uuid", "text", "text", "timestamptz"], stream_rows,
        )  # fmt: skip

        cur.execute(
            "CREATE TEMP TABLE bench_plain (id uuid PRIMARY KEY, title text, body text NOT NULL)"
            " ON COMMIT DROP"
        )

        def capture_rows() -> Iterable[tuple[Any, ...]]:
            for i, cid in enumerate(gen.capture_ids):
                mentioned = m_con[mention_order[mention_bounds[i] : mention_bounds[i + 1]]]
                title, content = gen.capture_text(i, [names[c] for c in mentioned[:3]])
                plain.append((cid, title, content))
                t, c = title.encode(), content.encode()
                yield (
                    cid, owner, gen.stream_ids[int(gen.stream_of[i])], owner,
                    gen.occurred[i], gen.captured[i],
                    sealer.seal(cid, "title", t), sealer.seal(cid, "content", c),
                    content_hash(hash_key, [title, content, None, gen.occurred[i].isoformat()]),
                    len(t) + len(c), f"bench-{i}", "DONE", gen.captured[i] + timedelta(minutes=1),
                )  # fmt: skip

        plain: list[tuple[uuid.UUID, str, str]] = []
        counts.captures = copy_rows(
            cur, "captures",
            ["id", "owner_id", "stream_id", "author_id", "occurred_at", "captured_at",
             "title_enc", "content_enc", "content_hash", "size_bytes", "external_id",
             "analysis_status", "analysed_at"],
            ["uuid", "uuid", "uuid", "uuid", "timestamptz", "timestamptz", "bytea", "bytea",
             "bytea", "int4", "text", "text", "timestamptz"],
            capture_rows(),
        )  # fmt: skip
        copy_rows(cur, "bench_plain", ["id", "title", "body"], ["uuid", "text", "text"], plain)
        lap("captures_encrypt_copy")
        # The same vector the analysis writes (search_index.index_capture).
        cur.execute(
            "UPDATE captures c SET search = setweight(to_tsvector(%(cfg)s::regconfig, p.title), 'A')"
            " || setweight(to_tsvector(%(cfg)s::regconfig, p.body), 'B')"
            " FROM bench_plain p WHERE p.id = c.id",
            {"cfg": SEARCH_CONFIG},
        )
        cur.execute("TRUNCATE bench_plain")
        lap("captures_tsvector")

        counts.concepts = copy_rows(
            cur, "concepts",
            ["id", "owner_id", "kind", "name", "normalized_name", "match_key", "created_at"],
            ["uuid", "uuid", "text", "text", "text", "text", "timestamptz"],
            (
                (gen.concept_ids[j], owner, kind, name, key, match_key(name, kind), START)
                for j, (kind, name, key) in enumerate(gen.concepts)
            ),
        )  # fmt: skip

        first_source = {int(i): int(c) for i, c in zip(i_ins[::-1], i_cap[::-1])}
        kinds = rng.choice(len(INSIGHT_KINDS), size=shape.insights, p=[0.35, 0.15, 0.25, 0.15, 0.1])
        confidence = np.round(rng.uniform(0.45, 0.98, shape.insights), 3)

        def insight_rows() -> Iterable[tuple[Any, ...]]:
            for i, iid in enumerate(gen.insight_ids):
                anchor = first_source[i]
                topic, words = TOPICS[int(gen.topic_of[anchor])]
                kind = INSIGHT_KINDS[int(kinds[i])]
                w = words.split()
                text = (
                    f"{topic}: {w[i % len(w)]} and {w[(i * 7) % len(w)]} keep coming back together."
                )
                bench_insight_text.append((iid, text))
                yield (
                    iid, owner, kind, seal_text(cipher, data_key, iid, text), float(confidence[i]),
                    "local-analyser/1", gen.captured[anchor] + timedelta(minutes=1),
                    fingerprint(data_key, gen.capture_ids[anchor], kind, text),
                )  # fmt: skip

        bench_insight_text: list[tuple[uuid.UUID, str]] = []
        counts.insights = copy_rows(
            cur, "insights",
            ["id", "owner_id", "kind", "text_enc", "confidence", "producer", "generated_at",
             "fingerprint"],
            ["uuid", "uuid", "text", "bytea", "float4", "text", "timestamptz", "bytea"],
            insight_rows(),
        )  # fmt: skip
        copy_rows(cur, "bench_plain", ["id", "body"], ["uuid", "text"], bench_insight_text)
        cur.execute(
            "UPDATE insights i SET search = to_tsvector(%s::regconfig, p.body)"
            " FROM bench_plain p WHERE p.id = i.id",
            (SEARCH_CONFIG,),
        )
        counts.insight_sources = copy_rows(
            cur, "insight_sources", ["insight_id", "capture_id", "owner_id"],
            ["uuid", "uuid", "uuid"],
            ((gen.insight_ids[int(i)], gen.capture_ids[int(c)], owner) for i, c in zip(i_ins, i_cap)),
        )  # fmt: skip
        lap("concepts_insights")

        counts.edges_by_relation, counts.superseded_edges = {}, 0
        counts.edges = copy_rows(
            cur, "edges",
            ["id", "owner_id", "from_type", "from_id", "to_type", "to_id", "relation", "weight",
             "evidence", "producer", "created_by", "recorded_at", "superseded_at"],
            ["uuid", "uuid", "text", "uuid", "text", "uuid", "text", "float4", "bytea", "text",
             "uuid", "timestamptz", "timestamptz"],
            edge_rows(gen, counts, (m_cap, m_con), (r_src, r_dst), (i_ins, i_cap, confidence)),
        )  # fmt: skip
        lap("edges_copy")

        centroids, producer_note = topic_centroids(rng)
        producer = producer_note.split("|", 1)[0]
        chosen = np.sort(rng.choice(shape.captures, size=shape.embedded, replace=False))
        noise = rng.normal(scale=0.045, size=(len(chosen), 384))
        vectors = centroids[gen.topic_of[chosen]] + noise
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        counts.embeddings = copy_rows(
            cur, "embeddings",
            ["owner_id", "node_id", "producer", "node_type", "stream_ids", "occurred_at",
             "embedding"],
            ["uuid", "text", "text", "text", "text[]", "timestamptz", "bytea"],
            (
                (owner, str(gen.capture_ids[int(i)]), producer, "capture",
                 [str(gen.stream_ids[int(gen.stream_of[i])])], gen.occurred[int(i)],
                 vector_bytes(v))
                for i, v in zip(chosen, vectors)
            ),
        )  # fmt: skip
        lap("embeddings_copy")

        for _, definition in indexes:
            cur.execute(definition)
        lap("create_indexes")
        conn.commit()
    with psycopg.connect(libpq_url(db_url), autocommit=True) as conn:
        for table in ["streams", *LOADED_TABLES]:
            conn.execute(f"VACUUM (ANALYZE) {table}")  # visibility map: index-only scans
    lap("vacuum_analyze")
    return timings, producer_note


def edge_rows(
    gen: Generator,
    counts: Counts,
    mentions: tuple[IntArray, IntArray],
    related: tuple[IntArray, IntArray],
    lineage: tuple[IntArray, IntArray, FloatArray],
) -> Iterable[tuple[Any, ...]]:
    """Every edge row; CO_OCCURS fills what the other relations leave of the budget."""
    rng, owner, shape = gen.rng, gen.owner, gen.shape
    m_cap, m_con = mentions
    r_src, r_dst = related
    i_ins, i_cap, confidence = lineage
    user_links = 2_000
    superseded = shape.edges // 50
    fixed = len(m_cap) + len(r_src) + len(i_ins) + user_links + superseded
    co_a, co_b, co_n, co_first = gen.co_occurrences(m_cap, m_con, shape.edges - fixed)
    total = fixed + len(co_a)
    ids = iter(uuids(rng, total))
    by_rel = counts.edges_by_relation
    assert by_rel is not None
    cap, con, ins = gen.capture_ids, gen.concept_ids, gen.insight_ids

    def analysed(i: int) -> datetime:
        return gen.captured[i] + timedelta(minutes=1)

    def count(relation: str, n: int) -> None:
        by_rel[relation] = by_rel.get(relation, 0) + n

    salience = np.round(rng.uniform(0.2, 1.0, len(m_cap)), 3)
    for c, k, w in zip(m_cap.tolist(), m_con.tolist(), salience.tolist()):
        yield (next(ids), owner, "capture", cap[c], "concept", con[k], "MENTIONS", w, None,
               "AI", None, analysed(c), None)  # fmt: skip
    count("MENTIONS", len(m_cap))
    similarity = np.round(rng.uniform(0.3, 0.95, len(r_src)), 4)
    for s, d, w in zip(r_src.tolist(), r_dst.tolist(), similarity.tolist()):
        yield (next(ids), owner, "capture", cap[s], "capture", cap[d], "RELATED_TO", w,
               jsonb({"similarity": w}), "AI", None, analysed(s), None)  # fmt: skip
    count("RELATED_TO", len(r_src))
    for i, c in zip(i_ins.tolist(), i_cap.tolist()):
        yield (next(ids), owner, "insight", ins[i], "capture", cap[c], "DERIVED_FROM",
               float(confidence[i]), None, "AI", None, analysed(c), None)  # fmt: skip
    count("DERIVED_FROM", len(i_ins))
    for a, b, n, first in zip(co_a.tolist(), co_b.tolist(), co_n.tolist(), co_first.tolist()):
        yield (next(ids), owner, "concept", con[a], "concept", con[b], "CO_OCCURS", float(n),
               jsonb({"count": n}), "AI", None, analysed(first), None)  # fmt: skip
    count("CO_OCCURS", len(co_a))
    n = shape.captures
    for s, d in zip(
        rng.integers(1, n, user_links).tolist(), rng.integers(0, n, user_links).tolist()
    ):
        if s == d:
            d = (d + 1) % n
        yield (next(ids), owner, "capture", cap[s], "capture", cap[d], "SEE_ALSO", 1.0, None,
               "USER", owner, analysed(max(s, d)) + timedelta(days=1), None)  # fmt: skip
    count("SEE_ALSO", user_links)
    # History: earlier versions of current RELATED_TO links (their weight
    # changed on re-analysis) and MENTIONS that a re-analysis dropped.
    pick = rng.choice(len(r_src), size=superseded // 2, replace=False)
    for j in pick.tolist():
        s, d = int(r_src[j]), int(r_dst[j])
        old = round(float(rng.uniform(0.3, 0.95)), 4)
        yield (next(ids), owner, "capture", cap[s], "capture", cap[d], "RELATED_TO", old,
               jsonb({"similarity": old}), "AI", None, analysed(s) - timedelta(days=30),
               analysed(s))  # fmt: skip
    dropped = superseded - superseded // 2
    for c, k in zip(rng.integers(0, n, dropped).tolist(),
                    rng.integers(0, shape.concepts, dropped).tolist()):  # fmt: skip
        yield (next(ids), owner, "capture", cap[c], "concept", con[k], "MENTIONS", 0.3, None,
               "AI", None, analysed(c), analysed(c) + timedelta(days=7))  # fmt: skip
    counts.superseded_edges = superseded


# ---- command ---------------------------------------------------------------------


def settings_for(data_dir: Path, database_url: str | None) -> Settings:
    """Settings for the bench data dir alone, whatever the shell's LIFEOS_* say."""
    return Settings(
        _env_file=None,
        lifeos_data_dir=data_dir,
        database_url=database_url,
        lifeos_master_key=None,
        lifeos_previous_master_keys=[],
        lifeos_auto_migrate=True,
        redis_url=None,
        openai_api_key=None,
    )


def read_manifest(data_dir: Path) -> dict[str, Any] | None:
    """The manifest of the data in ``data_dir``, if a generation completed there."""
    path = data_dir / MANIFEST
    return json.loads(path.read_text()) if path.exists() else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    defaults = Shape()
    for field, value in asdict(defaults).items():
        parser.add_argument(f"--{field}", type=int, default=value, help=f"default {value:,}")
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    parser.add_argument("--force", action="store_true", help="regenerate even if present")
    args = parser.parse_args()
    shape = Shape(**{f: getattr(args, f) for f in asdict(defaults)})
    data_dir: Path = args.data_dir.resolve()

    manifest = read_manifest(data_dir)
    wanted = {"generator": GENERATOR_VERSION, "shape": asdict(shape)}
    if manifest and not args.force and all(manifest.get(k) == v for k, v in wanted.items()):
        print(
            f"{data_dir}: already generated ({manifest['counts']['edges']:,} edges); --force to redo"
        )
        return 0
    if data_dir.exists() and (data_dir / "pg").exists():
        from lifeos_gql.db.embedded import stop_embedded_postgres

        stop_embedded_postgres(data_dir)
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    data_dir.chmod(0o755)  # pgserver runs postgres as its own user when we are root
    (data_dir / MANIFEST).unlink(missing_ok=True)

    started = time.perf_counter()
    owner, data_key, db_url = asyncio.run(provision(settings_for(data_dir, None)))
    gen = Generator(shape, owner)
    counts = Counts()
    timings = {"setup_and_text_model": round(time.perf_counter() - started, 2)}
    phases, embeddings_note = load(gen, data_key, db_url, counts)
    timings |= phases
    elapsed = round(time.perf_counter() - started, 1)
    manifest = {
        **wanted,
        "email": EMAIL,
        "owner_id": str(owner),
        "ts_config": SEARCH_CONFIG,
        "embeddings": embeddings_note,
        "counts": asdict(counts),
        "seconds": elapsed,
        "phases": timings,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
    }
    (data_dir / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    print(json.dumps(manifest, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
