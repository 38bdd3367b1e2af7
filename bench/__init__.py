"""Benchmarks of the registry, each runnable as `python -m bench.<name>`. `bench.exposure`
(`make bench`) loads a generated, seed-reproducible data set with COPY and measures the
exposure query as plain database work and through the real service; docs/performance.md
explains it and records the figures."""
