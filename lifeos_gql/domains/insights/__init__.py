"""Insights: statements derived from captures, stored encrypted, with their lineage."""
