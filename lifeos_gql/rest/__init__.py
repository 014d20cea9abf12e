"""REST endpoints under ``/v1``: capture ingest for devices and scripts, OpenAPI."""
