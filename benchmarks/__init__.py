"""Benchmarks of peewee-authjs against hand-written SQL on the same driver (``python -m benchmarks``)."""
