"""Audit: an append-only, hash-chained record of every change."""
