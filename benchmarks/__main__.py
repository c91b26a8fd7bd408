"""``python -m benchmarks [--quick] [--out DIR]``: see `benchmarks.run`."""
from .run import main

main()
