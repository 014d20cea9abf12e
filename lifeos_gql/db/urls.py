"""Normalise Postgres URLs for the two drivers we use (SQLAlchemy and libpq)."""

from __future__ import annotations


def sqlalchemy_url(url: str) -> str:
    """``postgresql+psycopg://`` form for SQLAlchemy's psycopg 3 dialect."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    raise ValueError("not a postgres URL")


def libpq_url(url: str) -> str:
    """Plain ``postgresql://`` form for psycopg and procrastinate."""
    for prefix in ("postgresql+psycopg://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    return url
