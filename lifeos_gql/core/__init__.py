"""Framework-free building blocks shared by every layer (stdlib only)."""
