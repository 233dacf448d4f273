"""The repository's benchmark directory: ``pytest suites/`` is a GENEB run (see ``geneb_bench.plugin``)."""

GENEB_BENCHMARK = True
