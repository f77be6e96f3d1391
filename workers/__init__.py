"""Background jobs: RQ on Redis in production, an in-process runner in the embedded default."""
