"""Tasks: metadata, loading, normalisation and the built-in suites."""
