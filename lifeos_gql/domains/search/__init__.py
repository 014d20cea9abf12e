"""Hybrid search: full text, trigram names and vector similarity, fused by RRF."""
