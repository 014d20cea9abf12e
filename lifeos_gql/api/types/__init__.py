"""GraphQL object types: their own classes, built from domain models."""
