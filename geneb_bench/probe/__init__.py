"""The GENEB probe: k-shot sampling, logistic regression on frozen embeddings, metrics."""
