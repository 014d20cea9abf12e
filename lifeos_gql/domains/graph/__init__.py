"""The knowledge graph: concepts (deduplicated per owner) and typed edges between nodes."""
