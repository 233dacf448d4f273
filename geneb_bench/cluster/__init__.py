"""Running sweeps on clusters: job scripts for schedulers."""
