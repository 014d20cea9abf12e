"""Embedding quality and speed of the offline default, against a TF-IDF baseline.

Quality: a topic-labelled personal-journal corpus (42 entries, 6 life topics,
written below). For each entry, take its 5 nearest neighbours by cosine and
count the share that has the entry's topic; report the mean. Associative
links between a person's captures are only useful if neighbours are on topic.

Speed: sentences/s on 1,000 journal-like sentences, model load time and the
resident memory the model adds.

Run: ``python bench/embeddings_quality.py`` (``--no-speed`` for quality only).
"""

from __future__ import annotations

import argparse
import math
import re
import resource
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from lifeos_gql.infra.embeddings.local_minilm import LocalMiniLMEmbedder, load_tokenizer

K = 5

CORPUS: dict[str, list[str]] = {
    "health": [
        "Woke up at 3am again with my heart racing. Barely five hours of sleep, "
        "and I dragged myself through the day on coffee.",
        "Doctor says my cholesterol is borderline. Fewer fried foods from now on, "
        "and she wants another blood test in three months.",
        "Did a 40 minute run by the canal this morning. Knees felt fine for once, "
        "and my resting heart rate is finally coming down.",
        "Skipped the gym all week and my back is stiff from sitting. "
        "Need to book a massage and get moving again.",
        "Started taking magnesium before bed. Sleep seems a bit deeper, "
        "though I still wake up once around four.",
        "The physiotherapist gave me stretches for the shoulder injury. "
        "Twice a day, and no swimming until it stops hurting.",
        "Blood test results came back normal. Relieved about the thyroid; "
        "the fatigue is probably just stress and poor sleep.",
    ],
    "work": [
        "The product launch slipped another two weeks because QA found regressions. "
        "Had to tell the sales team, they were not happy.",
        "My manager wants the roadmap deck by Thursday and I have not started it. "
        "Blocked tomorrow morning to write it.",
        "Great one-on-one with Priya about taking the team lead role next quarter. "
        "She thinks I am ready to manage people.",
        "Spent the whole afternoon in meetings and wrote zero lines of code. "
        "I should decline the recurring status sync.",
        "The client pushed back on the pricing in the contract renewal. "
        "We will probably have to offer a discount to keep the account.",
        "Interviewed two candidates for the backend position. "
        "One was excellent and I want to make her an offer this week.",
        "Shipped the billing migration tonight without any downtime. "
        "The team stayed late and we celebrated with pizza in the office.",
    ],
    "family": [
        "Mum called, she is worried about dad's memory getting worse. "
        "I will visit my parents next weekend to see for myself.",
        "Took the kids to the zoo. Leo would not leave the penguins "
        "and Mia fell asleep in the car on the way home.",
        "My sister and I finally talked about the argument at Christmas. "
        "We both cried and hugged, it feels like we are close again.",
        "Grandma turned ninety and the whole family came for lunch. "
        "My cousins brought their babies and she held every one of them.",
        "Helped my son with his maths homework until he cried. I need to be more patient with him.",
        "Anniversary dinner with Sam. We laughed about our first date "
        "and talked about having another child.",
        "Dad is moving into assisted living next month. "
        "My brother and I are sorting out the paperwork for our parents.",
    ],
    "money": [
        "Credit card bill was way higher than I expected this month. "
        "Too many takeaways and online shopping.",
        "Moved some savings into an index fund for retirement. "
        "The advisor said to keep six months of expenses in cash.",
        "The mortgage rate resets in spring and the monthly payment will jump. "
        "Looking at whether refinancing with another bank makes sense.",
        "Cancelled three streaming subscriptions I never use. That saves about forty a month.",
        "The tax return is due and I cannot find last year's receipts. "
        "Might need to pay an accountant this time.",
        "Set a budget of 400 a month for groceries and eating out. "
        "Tracking every expense in a spreadsheet.",
        "Got a bonus and put half of it toward the car loan. "
        "The rest goes into the emergency fund.",
    ],
    "travel": [
        "Booked flights to Lisbon for May. The hotel is near the old tram line and the castle.",
        "The train to Edinburgh was delayed two hours, but the views of the coast "
        "were worth it. Checked into a tiny guesthouse.",
        "Lost my passport at the airport and had to fill in a police report. "
        "The embassy issued an emergency travel document.",
        "Camping in the Dolomites. The hike up to the mountain hut took all day "
        "and the sunset over the peaks was unreal.",
        "Jet lag after the flight to Tokyo is brutal. "
        "Awake at 4am in the hotel, wandering the streets of Shinjuku.",
        "Planning a road trip along the coast with stops at small fishing towns. "
        "Rented a campervan for two weeks.",
        "Our Airbnb in Rome had no hot water but a wonderful terrace. "
        "Visited the Colosseum and ate gelato every day of the holiday.",
    ],
    "learning": [
        "Finished the first module of the online statistics course. "
        "The quiz on probability distributions was harder than I expected.",
        "Practised Spanish verbs for twenty minutes. My tutor says my pronunciation is improving.",
        "Reading a book on Stoicism. The chapter on the dichotomy of control "
        "stuck with me, taking notes for my reading journal.",
        "My guitar teacher says I rush the chord changes. "
        "Practising scales with a metronome every evening.",
        "Watched a lecture on how the brain consolidates memories. "
        "Wrote a summary to help me remember the key ideas.",
        "Trying to learn Rust by working through the official book. "
        "The borrow checker chapter finally clicked.",
        "Made flashcards on the chapter about spaced repetition. "
        "Studying for the certification exam next month.",
    ],
}

_TOKEN = re.compile(r"[a-z0-9]+")


def neighbour_purity(vectors: npt.NDArray[np.float64], labels: Sequence[str], k: int = K) -> float:
    """Mean share of each row's ``k`` nearest rows (by cosine, excluding itself) sharing its label."""
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    similarity = unit @ unit.T
    np.fill_diagonal(similarity, -np.inf)
    shares = []
    for row, label in enumerate(labels):
        nearest = np.argsort(-similarity[row])[:k]
        shares.append(sum(labels[j] == label for j in nearest) / k)
    return float(np.mean(shares))


def tfidf(texts: Sequence[str]) -> npt.NDArray[np.float64]:
    """Word TF-IDF with smoothed idf and L2 rows (scikit-learn's defaults)."""
    docs = [Counter(_TOKEN.findall(text.lower())) for text in texts]
    vocabulary = sorted({word for doc in docs for word in doc})
    column = {word: i for i, word in enumerate(vocabulary)}
    df = Counter(word for doc in docs for word in doc)
    n = len(texts)
    matrix = np.zeros((n, len(vocabulary)))
    for row, doc in enumerate(docs):
        for word, count in doc.items():
            matrix[row, column[word]] = count * (math.log((1 + n) / (1 + df[word])) + 1)
    return matrix


def speed_sentences(count: int = 1000) -> list[str]:
    """``count`` distinct journal-like sentences of 8 to 40 words."""
    entries = [entry for topic in CORPUS.values() for entry in topic]
    sentences = []
    for i in range(count):
        first = entries[i % len(entries)]
        second = entries[(i * 7 + 3) % len(entries)]
        sentence = f"Day {i}: {first}"
        if i % 3 == 0:
            sentence += f" Later, {second[0].lower()}{second[1:]}"
        sentences.append(sentence)
    return sentences


def rss_mib() -> float:
    """Resident set size of this process in MiB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds() -> float:
    """User + system CPU time of this process, all threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    """Print quality figures, then speed figures unless ``--no-speed``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-speed", action="store_true", help="skip the speed measurement")
    args = parser.parse_args()

    labels = [topic for topic, entries in CORPUS.items() for _ in entries]
    texts = [entry for entries in CORPUS.values() for entry in entries]
    rss_before = rss_mib()
    embedder = LocalMiniLMEmbedder()
    started = time.perf_counter()
    embedder.load()
    load_seconds = time.perf_counter() - started
    rss_loaded = rss_mib()

    minilm = np.asarray(embedder.embed_sync(texts), dtype=np.float64)
    print(f"corpus: {len(texts)} entries, {len(CORPUS)} topics, k={K}")
    print(f"  {embedder.name:<48} neighbour purity {neighbour_purity(minilm, labels):.2f}")
    print(
        f"  {'tf-idf (word, smoothed idf)':<48} neighbour purity "
        f"{neighbour_purity(tfidf(texts), labels):.2f}"
    )
    print(
        f"  {'chance (random unit vectors)':<48} neighbour purity "
        f"{neighbour_purity(np.random.default_rng(0).standard_normal((len(texts), 384)), labels):.2f}"
    )

    if args.no_speed:
        return
    sentences = speed_sentences()
    tokenizer = load_tokenizer()
    mean_tokens = np.mean([len(e.ids) for e in tokenizer.encode_batch(sentences)])
    embedder.embed_sync(sentences[:64])  # warm-up: first-run allocations
    cpu_before, started = cpu_seconds(), time.perf_counter()
    embedder.embed_sync(sentences)
    elapsed, cpu = time.perf_counter() - started, cpu_seconds() - cpu_before
    # Wall time depends on what else the machine runs; CPU time much less so.
    print(
        f"speed: {len(sentences)} sentences (mean {mean_tokens:.0f} tokens) in {elapsed:.2f} s "
        f"wall = {len(sentences) / elapsed:.0f}/s; {cpu:.2f} CPU-s = "
        f"{len(sentences) / cpu:.0f} per CPU-second ({embedder.threads} threads)"
    )
    print(
        f"model load {load_seconds:.2f} s; RSS +{rss_loaded - rss_before:.0f} MiB after load, "
        f"+{rss_mib() - rss_before:.0f} MiB after embedding"
    )


if __name__ == "__main__":
    main()
