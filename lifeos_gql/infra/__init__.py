"""Adapters to the outside world, each an interface with real implementations."""
