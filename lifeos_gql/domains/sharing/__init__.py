"""Sharing: roles on streams and the visibility policy."""
