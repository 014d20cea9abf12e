"""Token and link formats, the interactive-session rule and the public URL setting."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta

import pytest

from lifeos_gql.config import Settings, load_settings
from lifeos_gql.core.actor import Actor, Scope
from lifeos_gql.core.clock import utcnow
from lifeos_gql.core.errors import ConfigError
from lifeos_gql.domains.share_links import secret as link_secret
from lifeos_gql.domains.share_links.models import SharedNodeType, ShareLink
from lifeos_gql.domains.tokens import secret
from lifeos_gql.domains.tokens.policy import is_interactive


def test_api_and_ingest_tokens_are_told_apart_by_prefix() -> None:
    api, ingest = secret.new_api_token(), secret.new_token()
    assert secret.is_api_token(api) and not secret.is_ingest_token(api)
    assert secret.is_ingest_token(ingest) and not secret.is_api_token(ingest)
    assert secret.is_well_formed_api_token(api) and not secret.is_well_formed_api_token(ingest)
    assert not secret.is_well_formed_api_token(api + "x")
    assert secret.display_prefix(api) == api[: len("lifeos_pat_") + 6]
    assert secret.display_prefix(ingest) == ingest[: len("lifeos_ingest_") + 6]
    assert secret.new_api_token() != api


def test_link_tokens_are_url_safe_and_hashed() -> None:
    token = link_secret.new_link_token()
    assert link_secret.is_well_formed(token) and len(token) == 43
    assert not link_secret.is_well_formed(token[:-1]) and not link_secret.is_well_formed("a/b")
    assert link_secret.link_hash(token) != link_secret.link_hash(link_secret.new_link_token())


def test_only_sessions_are_interactive() -> None:
    user = uuid.uuid4()
    assert is_interactive(Actor(user_id=user, via="jwt"))
    assert is_interactive(Actor(user_id=user, via="dev-jwt"))
    assert not is_interactive(Actor.anonymous())
    assert not is_interactive(Actor(user_id=user, via="api-token", token_id=uuid.uuid4()))
    assert not is_interactive(Actor(user_id=user, via="jwt", token_id=uuid.uuid4()))
    assert not is_interactive(
        Actor(user_id=user, scopes=frozenset({Scope.WRITE}), via="ingest-token", stream_id=user)
    )


def test_share_link_liveness() -> None:
    now = utcnow()
    link = ShareLink(
        id=uuid.uuid4(),
        owner_id=uuid.uuid4(),
        node_type=SharedNodeType.CAPTURE,
        node_id=uuid.uuid4(),
        created_at=now,
        expires_at=now + timedelta(minutes=1),
        revoked_at=None,
        last_used_at=None,
    )
    assert link.is_live(now)
    assert not link.is_live(now + timedelta(minutes=1))
    assert not dataclasses.replace(link, revoked_at=now).is_live(now)


def test_public_url_defaults_to_host_and_port() -> None:
    settings = Settings(_env_file=None, lifeos_host="10.1.2.3", lifeos_port=9000)
    assert settings.public_base_url == "http://10.1.2.3:9000"
    explicit = Settings(_env_file=None, lifeos_public_url="https://life.example.org/")
    assert explicit.public_base_url == "https://life.example.org"
    with pytest.raises(ConfigError, match="LIFEOS_PUBLIC_URL"):
        load_settings(_env_file=None, lifeos_public_url="ftp://nope")
