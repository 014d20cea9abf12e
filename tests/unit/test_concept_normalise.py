"""Concept name normalisation and near-duplicate matching."""

from __future__ import annotations

import uuid

import pytest

from lifeos_gql.domains.graph.normalise import (
    Candidate,
    choose_concept,
    match_key,
    names_match,
    normalise_name,
    specificity,
)


@pytest.mark.parametrize(
    ("name", "kind", "key"),
    [
        ("Dr. Jane Smith", "person", "jane smith"),
        ("jane  SMITH", "person", "jane smith"),
        ("Smith, Jane", "person", "jane smith"),
        ("Jane Smith, PhD", "person", "jane smith"),
        ("José Núñez", "person", "jose nunez"),
        ("Søren Kierkegaard", "person", "soren kierkegaard"),
        ("Conan O’Brien", "person", "conan obrien"),
        ("J.R.R. Tolkien", "person", "j r r tolkien"),
        ("Acme Inc.", "organisation", "acme"),
        ("Smith & Co.", "organisation", "smith"),
        ("AT&T", "organisation", "at and t"),
        ("Zürich", "place", "zurich"),
        ("Große Straße", "place", "grosse strasse"),
        ("Machine-Learning!", "topic", "machine learning"),
        ("Dr.", "person", "dr"),
    ],
)
def test_normalise_name(name: str, kind: str, key: str) -> None:
    assert normalise_name(name, kind) == key


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Dr. Jane Smith", "jane smith"),
        ("J. Smith", "Jane Smith"),
        ("Jane A. Smith", "Jane Smith"),
        ("J. A. Smith", "Jane Anne Smith"),
        ("Dr. Smith", "Jane Smith"),
        ("Gabriel García Márquez", "Gabriel Márquez"),
    ],
)
def test_people_that_match(a: str, b: str) -> None:
    assert names_match(a, b, "person")
    assert names_match(b, a, "person")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Smith", "Jane Smith"),  # a bare surname could be a first name
        ("Jane", "Jane Smith"),
        ("John Smith", "Jane Smith"),
        ("J. Smith", "Jane Smyth"),
        ("Jane A. Smith", "Jane B. Smith"),
        ("Jim Smith", "James Smith"),  # nicknames are not guessed
        ("Dr. Smith", "Dr. Jones"),
    ],
)
def test_people_that_do_not_match(a: str, b: str) -> None:
    assert not names_match(a, b, "person")


def test_acronyms_match_organisations_and_topics_only() -> None:
    assert names_match("IBM", "International Business Machines", "organisation")
    assert names_match("I.B.M.", "International Business Machines Corp.", "organisation")
    assert names_match("ML", "machine learning", "topic")
    assert not names_match("ml", "machine learning", "topic")  # not written as an acronym
    assert not names_match("UN", "United Nations", "place")
    assert match_key("IBM", "organisation") == match_key(
        "International Business Machines", "organisation"
    )


def test_match_key_is_surname_for_people() -> None:
    assert match_key("Dr. Jane A. Smith", "person") == "smith"
    assert match_key("Smith, Jane", "person") == "smith"
    assert match_key("Paris", "place") is None


def test_specificity_prefers_full_names() -> None:
    assert specificity("Jane Smith", "person") > specificity("J. Smith", "person")
    assert specificity("Jane Anne Smith", "person") > specificity("Jane Smith", "person")


def _cand(name: str, kind: str = "person", aliases: tuple[str, ...] = ()) -> Candidate:
    return Candidate(
        id=uuid.uuid4(),
        name=name,
        normalized_name=normalise_name(name, kind),
        aliases=aliases,
        normalized_aliases=tuple(normalise_name(a, kind) for a in aliases),
    )


def test_initials_merge_only_when_unambiguous() -> None:
    jane = _cand("Jane Smith")
    assert choose_concept("J. Smith", [], "person", [jane]) is jane
    assert choose_concept("Dr. Smith", [], "person", [jane]) is jane
    john = _cand("John Smith")
    assert choose_concept("J. Smith", [], "person", [jane, john]) is None
    # A full name still finds its own node among namesakes.
    assert choose_concept("Dr. Jane Smith", [], "person", [jane, john]) is jane


def test_exact_key_wins_over_near_matches() -> None:
    j_smith = _cand("J. Smith")
    jane = _cand("Jane Smith")
    assert choose_concept("J Smith", [], "person", [jane, j_smith]) is j_smith


def test_aliases_link_both_ways() -> None:
    bob = _cand("Robert Paulson", aliases=("Bob",))
    assert choose_concept("bob", [], "person", [bob]) is bob
    assert choose_concept("Big Bob", ["Robert Paulson"], "person", [bob]) is bob


def test_kinds_never_merge_and_unknown_names_are_new() -> None:
    paris = _cand("Paris", kind="place")
    assert choose_concept("Paris Hilton", [], "person", []) is None
    assert choose_concept("Lyon", [], "place", [paris]) is None
