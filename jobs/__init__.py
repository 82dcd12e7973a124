"""Background jobs that reach the broker even when it was away when they were queued."""
