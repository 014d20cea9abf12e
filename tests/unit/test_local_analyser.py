"""The offline LocalAnalyser on realistic captures and on bad input."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from lifeos_gql.infra.llm.local import LocalAnalyser
from lifeos_gql.infra.llm.sanitise import MAX_ANALYSED_CHARS
from lifeos_gql.infra.llm.types import AnalysisItem, AnalysisResult

MEETING = (
    "Met Sarah Chen from Acme Robotics Inc. in Berlin on Tuesday to discuss the reinforcement "
    "learning roadmap. She thinks sparse rewards are the main bottleneck for warehouse "
    "automation, and that simulation-to-real transfer needs better domain randomisation. We "
    "agreed that Stanford University's dataset could help. Follow up with Dr. Patel about the "
    "grant deadline on 12 March 2025. The key lesson: small reliable experiments beat ambitious "
    "demos. Budget review with the finance team next week; hiring two engineers depends on the "
    "Series B closing. Should we delay the warehouse automation pilot?"
)
HIGHLIGHT = (
    "I finished reading Deep Work by Cal Newport. His argument is that focused, uninterrupted "
    "work is becoming rare and valuable. Priya Patel recommended it after the offsite in "
    "Lisbon. I want to block two hours every morning for writing, and Sarah Chen said she "
    "would try the same at Acme Robotics."
)
TRAINING = (
    "Long run along the river this morning, 18 km at an easy pace. My heart rate stayed low "
    "for the first hour, which suggests the base training is working. Sleep quality has been "
    "better since I stopped drinking coffee after lunch. Next goal: the Berlin Marathon in "
    "September 2025, so I need to build weekly mileage slowly and keep the long runs easy."
)


def item(ref: str, content: str, title: str | None = None) -> AnalysisItem:
    return AnalysisItem(
        ref=ref,
        title=title,
        content=content,
        occurred_at=datetime(2025, 3, 1, tzinfo=UTC),
        source_kind="note",
    )


def concepts(result: AnalysisResult, kind: str) -> set[str]:
    return {c.name for c in result.concepts if c.kind == kind}


@pytest.fixture(scope="module")
def analysed() -> list[AnalysisResult]:
    captures = [item("meeting", MEETING), item("highlight", HIGHLIGHT), item("run", TRAINING)]
    return LocalAnalyser().analyse_sync(captures)


def test_extracts_people_organisations_places_and_dates(analysed: list[AnalysisResult]) -> None:
    meeting, highlight, _ = analysed

    assert {"Sarah Chen", "Patel"} <= concepts(meeting, "person")
    assert {"Acme Robotics", "Stanford University"} <= concepts(meeting, "organisation")
    assert concepts(meeting, "place") == {"Berlin"}
    assert concepts(meeting, "date") == {"2025-03-12"}
    acme = next(c for c in meeting.concepts if c.name == "Acme Robotics")
    assert acme.aliases == ["Acme Robotics Inc"]
    assert {"Cal Newport", "Priya Patel", "Sarah Chen"} <= concepts(highlight, "person")
    assert concepts(highlight, "work") == {"Deep Work"}
    assert concepts(highlight, "place") == {"Lisbon"}
    # Neither a funding round nor a weekday is a person.
    assert not {"Series B", "Tuesday"} & {c.name for c in meeting.concepts}


def test_extracts_topics_and_events(analysed: list[AnalysisResult]) -> None:
    meeting, _, run = analysed

    topics = concepts(meeting, "topic")
    assert "reinforcement learning roadmap" in topics
    assert {"sparse rewards", "warehouse automation"} & topics
    assert "Berlin Marathon" in concepts(run, "event")
    assert "2025-09" in concepts(run, "date")
    assert any("sleep" in topic or "run" in topic for topic in concepts(run, "topic"))


def test_insights_are_extractive_bounded_and_never_mental_models(
    analysed: list[AnalysisResult],
) -> None:
    for result in analysed:
        kinds = [i.kind for i in result.insights]
        assert "mental_model" not in kinds
        assert 1 <= kinds.count("key_insight") <= 3
        assert kinds.count("summary") == 1
        assert all(0.15 <= i.confidence <= 0.75 for i in result.insights)
        assert result.producer == "local-analyser/1"
    meeting = analysed[0]
    texts = {i.kind: i.text for i in meeting.insights}
    assert texts["question"] == "Should we delay the warehouse automation pilot?"
    assert all(i.text in MEETING for i in meeting.insights if i.kind == "key_insight")


def test_links_items_that_share_concepts(analysed: list[AnalysisResult]) -> None:
    meeting, highlight, _ = analysed

    [link] = [r for r in meeting.relations if r.to_ref == "highlight"]
    assert link.relation == "shares_concepts"
    assert "Sarah Chen" in link.evidence and "Acme Robotics" in link.evidence
    assert 0 < link.weight <= 1
    assert not any(r.to_ref == "meeting" for r in highlight.relations)  # reported once
    assert all(r.from_ref == r_.ref for r_ in analysed for r in r_.relations)


def test_is_deterministic() -> None:
    captures = [item("a", MEETING), item("b", HIGHLIGHT), item("c", TRAINING)]

    first = [r.model_dump() for r in LocalAnalyser().analyse_sync(captures)]
    second = [r.model_dump() for r in LocalAnalyser().analyse_sync(captures)]

    assert first == second


async def test_async_analyse_matches_sync() -> None:
    captures = [item("a", MEETING), item("b", HIGHLIGHT)]
    analyser = LocalAnalyser()

    assert await analyser.analyse(captures) == analyser.analyse_sync(captures)


def test_empty_and_whitespace_give_empty_results_not_errors() -> None:
    results = LocalAnalyser().analyse_sync([item("e", ""), item("w", " \n\t  \r\n ")])

    for result in results:
        assert result.error is None
        assert result.insights == [] and result.concepts == [] and result.relations == []
        assert result.analysed_chars == 0


def test_binary_junk_is_unsupported_content() -> None:
    junk = bytes(range(256)).decode("latin-1") * 20

    [result] = LocalAnalyser().analyse_sync([item("bin", junk)])

    assert result.error is not None
    assert result.error.code == "UNSUPPORTED_CONTENT" and result.error.transient is False
    assert result.insights == [] and result.concepts == []


def test_stray_control_characters_are_removed() -> None:
    dirty = MEETING.replace("Sarah Chen", "Sarah\x00 Chen", 1).replace(". ", ".\x07 ", 2)

    [result] = LocalAnalyser().analyse_sync([item("dirty", dirty)])

    assert result.error is None
    assert "Sarah Chen" in concepts(result, "person")
    assert all("\x07" not in i.text and "\x00" not in i.text for i in result.insights)


def test_enormous_documents_are_capped_and_say_so() -> None:
    huge = " ".join([MEETING, HIGHLIGHT, TRAINING] * 2000)  # ~1.7 MB
    started = time.perf_counter()

    [result] = LocalAnalyser().analyse_sync([item("huge", huge)])

    assert time.perf_counter() - started < 10
    assert result.error is None and result.truncated is True
    assert 0.9 * MAX_ANALYSED_CHARS <= result.analysed_chars <= MAX_ANALYSED_CHARS
    assert "Sarah Chen" in concepts(result, "person")


@pytest.mark.parametrize(
    "text",
    [
        "Heute habe ich mit Jonas über das Projekt in München gesprochen. Die Ergebnisse "
        "waren gut, aber wir brauchen mehr Zeit für die Auswertung.",
        "今日は田中さんと東京で新しいプロジェクトについて話しました。来週また会う予定です。",
        "Сегодня мы обсуждали бюджет проекта с командой. Решение отложили до пятницы.",
    ],
)
def test_non_english_text_does_not_crash(text: str) -> None:
    [result] = LocalAnalyser().analyse_sync([item("x", text)])

    assert result.error is None
    assert result.insights  # at least the leading sentence
    # German capitalises every noun: without cues those are not taken for names.
    assert "Die Ergebnisse" not in {c.name for c in result.concepts}


def test_duplicate_refs_are_a_caller_error() -> None:
    with pytest.raises(ValueError):
        LocalAnalyser().analyse_sync([item("same", MEETING), item("same", HIGHLIGHT)])


def test_two_hundred_captures_take_well_under_a_second_each() -> None:
    captures = [item(f"c{n}", f"{MEETING} Note {n}.") for n in range(200)]
    started = time.process_time()

    results = LocalAnalyser().analyse_sync(captures)

    assert all(r.error is None for r in results)
    # ~5 ms each on a loaded 2-core machine; the bound leaves a wide margin.
    assert time.process_time() - started < 10
