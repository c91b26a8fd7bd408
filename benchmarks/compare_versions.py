"""The library's defaults in two versions of the code, on the suite's problems.

Usage, from the repository root::

    git worktree add /tmp/before <commit>
    python benchmarks/compare_versions.py /tmp/before [--jobs 2]

Runs only the row "Guided ES, library defaults" of every family of
`python -m benchmarks` (same problems, seeds and budgets), once with the
code of the other checkout and once with this one, each in its own process,
and prints per problem the median over seeds of the best recorded
``f - f*`` (``f`` itself where ``f*`` is unknown) and the ratio of this
version's to the other's; for the attack, the images fooled. The suite's
report compares methods within one run; this compares versions within one
machine, where the report, regenerated on another machine, cannot (the last
bits of numpy's arithmetic differ between machines, and every adaptive run
reacts to them).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAMILIES = ("quadratic", "logistic", "illcond", "signnet", "unrolled", "attack",
            "useless", "alpha", "rescaling")


def _run_here(jobs, out):
    """Run the library rows with the code importable from sys.path[0]."""
    from joblib import Parallel, delayed

    from benchmarks import run as R
    spec = R._spec(False)
    todo = [j + (fam,) for fam in FAMILIES for j in R._jobs(fam, spec[fam])
            if j[6].key == "defaults"]
    rows = Parallel(n_jobs=jobs)(delayed(_run_job)(j) for j in todo)
    with open(out, "w") as f:
        json.dump(rows, f)


def _run_job(job):
    """One run of the suite (the job's last entry is its family)."""
    from benchmarks import run as R
    r = R._run_job(job[:-1])
    return dict(family=job[-1], problem=r["problem"], c=r["c"], s=r["s"],
                seed=r["seed"], best=float(np.min(r["trace"].gap)),
                evals=int(r["trace"].evals[-1]))


def _collect(code, jobs):
    """Rows of the library defaults with the code at `code`, in a subprocess."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "rows.json")
        env = dict(os.environ, PYTHONPATH=code, OPENBLAS_NUM_THREADS="1")
        subprocess.run([sys.executable, os.path.abspath(__file__), "--worker", code,
                        "--out", out, "--jobs", str(jobs)], check=True, env=env,
                       cwd=code)
        with open(out) as f:
            return json.load(f)


def _table(before, after):
    def group(rows):
        out = {}
        for r in rows:
            key = (r["family"], r["problem"] if r["family"] != "attack" else "images",
                   r["c"], r["s"])
            out.setdefault(key, []).append(r)
        return out

    b, a = group(before), group(after)
    lines = ["| family | problem | f x | x x | before | this version | ratio |",
             "|---|---|---|---|---|---|---|"]
    for key in b:
        family, problem, c, s = key
        if family == "attack":
            def fooled(rs):
                return f"{sum(r['best'] < 0 for r in rs)}/{len(rs)} fooled"
            lines.append(f"| {family} | {problem} | | | {fooled(b[key])} | "
                         f"{fooled(a[key])} | |")
            continue
        mb = float(np.median([r["best"] for r in b[key]]))
        ma = float(np.median([r["best"] for r in a[key]]))
        # a ratio of gaps; none of values of f that may be negative
        ratio = f"{ma / mb:.3g}" if mb > 0 and ma >= 0 else "n/a"
        lines.append(f"| {family} | {problem} | {c:g} | {s:g} | {mb:.3g} | {ma:.3g} | "
                     f"{ratio} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", nargs="?", help="checkout of the other version")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        sys.path.insert(0, args.worker)
        _run_here(args.jobs, args.out)
        return
    if not args.before:
        parser.error("give the checkout of the version to compare with")
    before = _collect(os.path.abspath(args.before), args.jobs)
    after = _collect(HERE, args.jobs)
    print(_table(before, after))


if __name__ == "__main__":
    main()
