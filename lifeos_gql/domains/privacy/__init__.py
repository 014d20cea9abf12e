"""Privacy: per-user data keys (crypto-shredding), export and erasure."""
