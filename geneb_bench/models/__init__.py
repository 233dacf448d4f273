"""Models: declarative specs, the registry, and the embedders that turn sequences into vectors."""
