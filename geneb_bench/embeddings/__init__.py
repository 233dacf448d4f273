"""Embeddings: computed once per (model, task), cached on disk and kept in memory while needed."""
