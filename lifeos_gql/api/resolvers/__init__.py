"""Root fields: they call loaders and services, never SQL."""
