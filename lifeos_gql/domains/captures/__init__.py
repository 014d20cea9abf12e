"""Captures: the items of a stream, stored encrypted, deduplicated, audited."""
