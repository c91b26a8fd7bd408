"""Command-line plumbing shared by the report scripts that run one library
checkout over seeds in worker processes (`benchmarks.noisy`,
`benchmarks.bounds`)."""

import argparse
import os
import sys

__all__ = ["seeded_parser", "parse_seeded", "use_checkout"]


def seeded_parser(doc, seed0, seed_help, budget_default):
    """A parser with ``--seeds``, ``--seed0``, ``--code``, ``--budget``,
    ``--jobs`` and ``--output``, described by the first line of `doc`;
    the script adds its own options before parsing with `parse_seeded`."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--seed0", type=int, default=seed0, help=seed_help)
    parser.add_argument("--code", help="checkout whose ges_minimize to run")
    parser.add_argument("--budget", type=int, default=None,
                        help=f"evaluations per run (default {budget_default})")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--output", help="write the report (markdown) to this file")
    return parser


def parse_seeded(parser, argv):
    """Parse `argv`; exit with the parser's usage error unless ``--seeds``,
    ``--budget`` and ``--jobs`` are positive."""
    args = parser.parse_args(argv)
    if args.seeds < 1 or args.jobs < 1 or (args.budget is not None and args.budget < 1):
        parser.error("--seeds, --budget and --jobs must be positive")
    return args


def use_checkout(code, here):
    """Import ges_minimize from the checkout `code` (the repository `here`
    if None), in this process and in the workers it starts, each on one
    BLAS thread; return the checkout's absolute path."""
    code = os.path.abspath(code) if code else here
    sys.path.insert(0, code)
    os.environ["PYTHONPATH"] = os.pathsep.join([code, here])
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    return code
