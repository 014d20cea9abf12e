"""Users: provisioning from verified identities, lookups."""
