"""Benchmarks: one module per ``bench-*`` command; each prints a table and writes JSON."""
