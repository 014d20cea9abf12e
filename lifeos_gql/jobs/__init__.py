"""Background jobs on procrastinate: capture analysis, its outbox sweeper, workers."""
