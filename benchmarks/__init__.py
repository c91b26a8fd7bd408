"""Benchmarks of ges_minimize against its peers: `python -m benchmarks`.

``python -m benchmarks`` runs the full comparison and writes
``docs/benchmarks.md`` with its figures; ``python -m benchmarks --quick`` is
a one-minute smoke run into ``benchmarks/out/``. See `benchmarks.run`.
"""
