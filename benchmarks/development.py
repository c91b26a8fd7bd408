"""Development problems: the library's defaults on seeds the suite never uses.

Usage, from the repository root::

    python benchmarks/development.py                       # every problem
    python benchmarks/development.py rosenbrock paper      # some of them
    python benchmarks/development.py --seeds 12 quadratic_1e4
    python benchmarks/development.py --code /tmp/before    # another checkout
    python benchmarks/development.py --set alpha="'auto'"  # an option changed

Choices of the adaptive mode are made on these runs, and reported on the
suite (`python -m benchmarks`, seeds 0 to 4, or 0 to 8 for the sign network
and the unrolled optimisation), so that no setting is judged on the runs it
was tuned on. The problems are the suite's definitions
(`benchmarks.run.build`), among them two regimes of the suite's ``alpha``
family, which holds them out of the tuning of ``alpha='auto'`` (do not tune
that on them), and its three non-smooth problems, on seeds from 100
(``--seed0``; at least 9). Each run is ``minimize_guided_es(f, x0, surrogate, maxfev=budget, rng=seed)``
with the options of ``--set``. Printed per problem: the median over seeds
of ``(f - f*) / (f(x0) - f*)`` at the end (``f`` itself where ``f*`` is
unknown: the sign network, the unrolled optimisation), the per-seed
values, evaluations per iteration and the statuses.
"""

import argparse
import ast
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: name: (factory, keyword arguments, budget, default number of seeds)
PROBLEMS = {
    "rosenbrock": ("rosenbrock", dict(n=50, bias=0.5, noise=0.5), 10_000, 5),
    "rosenbrock_noisy": ("rosenbrock", dict(n=50, bias=1.0, noise=1.5), 10_000, 5),
    "quadratic_1e3": ("rotated", dict(n=50, cond=1e3, bias=0.5, noise=0.5), 10_000, 5),
    "quadratic_1e4": ("rotated", dict(n=50, cond=1e4, bias=1.0, noise=1.5), 10_000, 5),
    "quadratic_bias_2": ("rotated", dict(n=50, cond=1e3, bias=2.0, noise=0.0), 10_000, 5),
    "quadratic_bias_0.2": ("rotated", dict(n=50, cond=1e3, bias=0.2, noise=0.2),
                           10_000, 5),
    "paper": ("paper", dict(n=1000, m=2000), 20_000, 3),
    "logistic": ("logistic", dict(n=100, m=1000), 10_000, 3),
    "sign_network": ("signnet", dict(hidden=32), 5_000, 3),
    "unrolled": ("unrolled", {}, 2_000, 5),
    "useless_rosenbrock": ("rosenbrock", dict(n=50, bias=0.0, noise=0.0, useless=True),
                           10_000, 5),
    "useless_quadratic": ("rotated", dict(n=50, cond=1e3, bias=0.0, noise=0.0,
                                          useless=True), 10_000, 5),
    "l1": ("l1", dict(n=50, bias=0.5, noise=0.5), 10_000, 5),
    "max_distance": ("maxabs", dict(n=50, bias=0.5, noise=0.5), 10_000, 5),
    "lad": ("lad", dict(n=50, bias=0.5, noise=0.5), 10_000, 5),
}


def run_one(name, seed, options):
    """(name, seed, value, nfev, nit, status) of one run."""
    from benchmarks.run import build
    from ges_minimize import minimize_guided_es
    factory, kwargs, budget, _ = PROBLEMS[name]
    p = build(factory, kwargs, seed)
    res = minimize_guided_es(p.fun, p.x0, p.surrogate_grad, maxfev=budget, rng=seed,
                             **options)
    value = (res.fun if p.f_star is None else p.gap(res.x) / p.gap(p.x0))
    return name, seed, float(value), int(res.nfev), int(res.nit), int(res.status)


def _options(pairs):
    """``--set key=value`` pairs as keyword arguments (values as Python literals)."""
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.isidentifier():
            raise SystemExit(f"--set expects key=value, got {pair!r}")
        try:
            options[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            raise SystemExit(f"--set {key}: {value!r} is not a Python literal "
                             "(quote strings: alpha=\"'auto'\")") from None
    return options


def table(rows, names):
    """One line per problem: median, per-seed values, evaluations per
    iteration, statuses."""
    lines = []
    for name in names:
        mine = [r for r in rows if r[0] == name]
        values = [r[2] for r in mine]
        lines.append(
            f"{name:20s} median {np.median(values):10.3g}  ["
            + " ".join(f"{v:.2g}" for v in values) + "]  evaluations / iteration "
            + " ".join(f"{r[3] / max(r[4], 1):.2f}" for r in mine)
            + "  status " + "".join(str(r[5]) for r in mine))
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("problems", nargs="*", metavar="PROBLEM",
                        help="problems to run, of " + ", ".join(PROBLEMS)
                        + " (default: all)")
    parser.add_argument("--seeds", type=int, help="seeds per problem (default: "
                        "3 or 5, as in PROBLEMS)")
    parser.add_argument("--seed0", type=int, default=100,
                        help="first seed (default 100; the suite uses 0 to 8)")
    parser.add_argument("--code", help="checkout whose ges_minimize to run")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="an option of minimize_guided_es (repeatable)")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    unknown = [name for name in args.problems if name not in PROBLEMS]
    if unknown:
        parser.error(f"unknown problems {unknown}; choose from {', '.join(PROBLEMS)}")
    if args.seed0 < 9:
        parser.error(f"--seed0 {args.seed0} overlaps the suite's seeds 0 to 8")
    if args.code:
        code = os.path.abspath(args.code)
        sys.path.insert(0, code)
        os.environ["PYTHONPATH"] = os.pathsep.join(
            [code] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    options = _options(args.set)
    names = args.problems or list(PROBLEMS)
    jobs = [(name, args.seed0 + k) for name in names
            for k in range(args.seeds or PROBLEMS[name][3])]
    from joblib import Parallel, delayed
    rows = Parallel(n_jobs=args.jobs)(delayed(run_one)(name, seed, options)
                                      for name, seed in jobs)
    import ges_minimize
    print(f"ges_minimize from {os.path.dirname(ges_minimize.__file__)}; options {options}")
    print(table(rows, names))


if __name__ == "__main__":
    if HERE not in sys.path:
        sys.path.append(HERE)
    main()
