"""Models: declarative specs, the registry (40 GENEB models from ``zoo.toml``, baselines, anything resolvable),
the recipes that say how each is extracted, and the embedders that turn sequences into vectors."""
