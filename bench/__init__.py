"""Benchmarks: API requests, time and memory of sync cycles from one district (50 units) to
a national roll-up (5,000), on the fake Google APIs and on local workbooks.

``python -m bench`` (from the repository root) writes docs/benchmarks.md; see bench/run.py.
"""
