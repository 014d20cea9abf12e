"""Per-stream ingest tokens: write-only credentials for devices and scripts."""
