"""LifeOS GraphQL API: a personal knowledge graph served over GraphQL."""

__version__ = "0.1.0"
