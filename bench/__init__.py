"""Benchmarks (not tests): `python bench/codec.py` or `nox -s bench_codec`; see bench/README.md."""
