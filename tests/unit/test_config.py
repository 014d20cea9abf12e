"""Settings: defaults, parsing, and one-line errors naming the setting."""

from __future__ import annotations

import base64
import subprocess
import sys

import pytest

from lifeos_gql.config import Env, load_settings
from lifeos_gql.core.errors import ConfigError


def test_defaults(monkeypatch):
    for name in ("DATABASE_URL", "REDIS_URL", "LIFEOS_ENV", "LIFEOS_PORT"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(_env_file=None)
    assert settings.lifeos_env is Env.DEV
    assert settings.lifeos_port == 8000
    assert settings.database_url is None


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("LIFEOS_PORT", "eighty", "LIFEOS_PORT"),
        ("LIFEOS_PORT", "70000", "LIFEOS_PORT"),
        ("DATABASE_URL", "mysql://x", "DATABASE_URL"),
        ("REDIS_URL", "http://x", "REDIS_URL"),
        ("LIFEOS_MASTER_KEY", "short", "LIFEOS_MASTER_KEY"),
        ("LIFEOS_ENV", "staging", "LIFEOS_ENV"),
        ("LIFEOS_MAX_QUERY_DEPTH", "1", "LIFEOS_MAX_QUERY_DEPTH"),
    ],
)
def test_bad_values_name_the_setting(monkeypatch, name, value, fragment):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        load_settings(_env_file=None)
    message = str(info.value)
    assert fragment in message
    assert "\n" not in message


def test_prod_requires_its_settings(monkeypatch):
    monkeypatch.setenv("LIFEOS_ENV", "prod")
    for name in ("DATABASE_URL", "CLERK_ISSUER", "LIFEOS_MASTER_KEY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError, match="DATABASE_URL, CLERK_ISSUER, LIFEOS_MASTER_KEY"):
        load_settings(_env_file=None)


def test_csv_lists(monkeypatch):
    key = base64.b64encode(b"k" * 32).decode()
    monkeypatch.setenv("LIFEOS_CORS_ORIGINS", "https://app.example, http://localhost:5173")
    monkeypatch.setenv("CLERK_AUTHORIZED_PARTIES", "https://app.example")
    monkeypatch.setenv("LIFEOS_PREVIOUS_MASTER_KEYS", key)
    settings = load_settings(_env_file=None)
    assert settings.lifeos_cors_origins == ["https://app.example", "http://localhost:5173"]
    assert settings.clerk_authorized_parties == ["https://app.example"]
    assert settings.lifeos_previous_master_keys == [key]


def test_cli_stops_with_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "lifeos_gql.cli", "serve"],
        env={"LIFEOS_PORT": "not-a-port", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "lifeos-gql: invalid setting LIFEOS_PORT: Input should be a valid integer, "
        "unable to parse string as an integer"
    ]
