"""Benchmarks: measured speed, memory and size (run them all with ``python -m bench``)."""
