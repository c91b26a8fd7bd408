"""The benchmark suite: every method at its documented defaults, one report.

Usage, from the repository root::

    python -m benchmarks                   # full suite, writes docs/benchmarks.md
    python -m benchmarks --quick           # smoke run (< 2 minutes), benchmarks/out/
    python -m benchmarks --only rescaling  # rerun one family, merge into the last results
    python -m benchmarks --only overhead   # the library's overhead and scaling
    python -m benchmarks --out DIR         # report and figures into DIR

``--only`` merges into the results that the last run saved under
``benchmarks/out/``; where those lack a family (a fresh checkout has none),
it stops before running rather than overwrite ``docs/benchmarks.md`` with a
partial report, unless ``--out`` sends the report elsewhere.

Families (`FAMILIES`): the paper's perturbed quadratic; logistic regression
with a float16 subsampled surrogate; an ill-conditioned quadratic and
Rosenbrock with a biased noisy surrogate (these three also rescaled, f x 1e3
and x / 100); a sign-activation network on digits with the straight-through
gradient; the unrolled optimisation of ``examples/unrolled_optimization.py``
with its truncated gradient; the black-box attack of
``examples/blackbox_attack.py`` with its transfer gradient; no surrogate at
all; a useless surrogate (of the gradient's size, random direction) against
vanilla ES with the same adaptive step; and the rescaling grid (3 problems x
3 value scales x 3 x scales).
Methods: `benchmarks._methods.method_table`. Data profile:
`benchmarks._profile`. Independent runs go to a ``joblib.Parallel`` pool
(``--jobs``, default 2), each on one BLAS thread.
"""

import argparse
import os
import pickle
import re
import sys
import time

import numpy as np
from joblib import Parallel, delayed
from threadpoolctl import threadpool_limits

from . import _families as F
from . import _report
from ._methods import EXTRA_LABELS, PAPER, RECORD_EVERY, Trace, method_table
from ._profile import data_profile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAMILIES = ("quadratic", "logistic", "illcond", "nonsmooth", "signnet", "unrolled",
            "attack", "nosurrogate", "useless", "alpha", "rescaling")
TITLES = dict(
    quadratic="Perturbed quadratic (the paper's problem)",
    logistic="Logistic regression with a subsampled float16 surrogate",
    illcond="Ill-conditioned quadratic and Rosenbrock with a biased, noisy surrogate",
    nonsmooth="Non-smooth convex problems with a biased, noisy subgradient as surrogate",
    signnet="Sign-activation network on digits, straight-through surrogate",
    unrolled="Unrolled optimisation with a truncated gradient",
    attack="Black-box attack with a transfer gradient",
    nosurrogate="No surrogate: self-guided modes against CMA-ES",
    useless="A useless surrogate against none: the defaults and vanilla ES with the "
            "same adaptation",
    alpha="alpha='auto' and fixed alphas on surrogate regimes held out of its tuning",
    rescaling="Rescaling grid: the library's defaults against CMA-ES with gradf")
SCALINGS = ((1.0, 1.0), (1e3, 1.0), (1.0, 1e-2))          # (c, s): g(x) = c f(x / s)
GRID_C, GRID_S = (1e-3, 1.0, 1e3), (1e-2, 1.0, 1e2)
TAUS = (1e-1, 1e-3, 1e-5)
TARGETS = (1e-2, 1e-4)                                    # relative to the initial gap
SLOW = ("cma", "cma_grad", "ngopt")


def _spec(quick):
    """Problems, seeds, budgets and seed caps of every family."""
    if quick:
        n3, nn = 10, 10
        return dict(
            quadratic=dict(kind="surrogate", problems=[("quadratic", "paper", dict(n=50, m=100))],
                           seeds=1, budget=1000, scalings=SCALINGS),
            logistic=dict(kind="surrogate", problems=[("logistic", "logistic", dict(n=10, m=100))],
                          seeds=1, budget=500, scalings=SCALINGS),
            illcond=dict(kind="surrogate", problems=[
                ("quadratic 1e4", "rotated", dict(n=n3, cond=1e4, bias=1.0, noise=1.5)),
                ("Rosenbrock", "rosenbrock", dict(n=n3, bias=1.0, noise=1.5))],
                seeds=1, budget=500, scalings=SCALINGS),
            nonsmooth=dict(kind="surrogate", problems=_nonsmooth_problems(nn), seeds=1,
                           budget=500, scalings=SCALINGS[:1]),
            signnet=dict(kind="surrogate", problems=[("sign network", "signnet",
                                                       dict(hidden=4, n_samples=200))],
                         seeds=1, budget=300, scalings=SCALINGS[:1], extra=("nonmonotone",)),
            unrolled=dict(kind="surrogate", problems=[("unrolled", "unrolled", {})],
                          seeds=1, budget=100, scalings=SCALINGS[:1]),
            attack=dict(kind="surrogate", images=2, budget=60, seeds=1,
                        scalings=SCALINGS[:1]),
            nosurrogate=dict(kind="none", problems=_none_problems(nn), seeds=1, budget=500,
                             scalings=SCALINGS[:1]),
            useless=dict(kind="useless", problems=_useless_problems(nn), seeds=1,
                         budget=500, scalings=SCALINGS[:1]),
            alpha=dict(kind="alpha", problems=_alpha_problems(nn), seeds=1, budget=500,
                       scalings=SCALINGS[:1]),
            rescaling=dict(kind="rescaling", problems=_grid_problems(nn), seeds=1,
                           budget=100 * nn, scalings=_grid()),
        )
    n3, nn = 50, 50
    return dict(
        quadratic=dict(kind="surrogate", problems=[("quadratic", "paper", dict(n=1000, m=2000))],
                       seeds=5, budget=20_000, scalings=SCALINGS,
                       caps=dict(cma=1, cma_grad=2, ngopt=1),
                       scaled_seeds=1, scaled_caps=dict(cma=1, cma_grad=1, ngopt=1)),
        logistic=dict(kind="surrogate", problems=[("logistic", "logistic", dict(n=100, m=1000))],
                      seeds=5, budget=10_000, scalings=SCALINGS, caps=dict(ngopt=3),
                      scaled_seeds=3, scaled_caps=dict(ngopt=2)),
        illcond=dict(kind="surrogate", problems=[
            ("quadratic 1e4", "rotated", dict(n=n3, cond=1e4, bias=1.0, noise=1.5)),
            ("Rosenbrock", "rosenbrock", dict(n=n3, bias=1.0, noise=1.5))],
            seeds=5, budget=200 * n3, scalings=SCALINGS, caps=dict(ngopt=3),
            scaled_seeds=3, scaled_caps=dict(ngopt=1)),
        nonsmooth=dict(kind="surrogate", problems=_nonsmooth_problems(nn), seeds=5,
                       budget=200 * nn, scalings=SCALINGS[:1], caps=dict(ngopt=3)),
        signnet=dict(kind="surrogate", problems=[("sign network", "signnet", dict(hidden=32))],
                     seeds=9, budget=5_000, scalings=SCALINGS[:1],
                     caps=dict(cma=1, cma_grad=1, ngopt=1), extra=("nonmonotone",)),
        unrolled=dict(kind="surrogate", problems=[("unrolled", "unrolled", {})],
                      seeds=9, budget=2_000, scalings=SCALINGS[:1], caps=dict(ngopt=3)),
        attack=dict(kind="surrogate", images=10, budget=400, seeds=1, scalings=SCALINGS[:1]),
        nosurrogate=dict(kind="none", problems=_none_problems(nn), seeds=5, budget=200 * nn,
                         scalings=SCALINGS[:1], caps=dict(ngopt=3)),
        useless=dict(kind="useless", problems=_useless_problems(nn), seeds=5,
                     budget=200 * nn, scalings=SCALINGS[:1]),
        alpha=dict(kind="alpha", problems=_alpha_problems(nn), seeds=5, budget=200 * nn,
                   scalings=SCALINGS[:1]),
        rescaling=dict(kind="rescaling", problems=_grid_problems(nn), seeds=3,
                       budget=200 * nn, scalings=_grid()),
    )


def _none_problems(n):
    return [("sphere", "sphere", dict(n=n, bias=None, noise=None)),
            ("quadratic 1e3", "rotated", dict(n=n, cond=1e3, bias=None, noise=None)),
            ("Rosenbrock", "rosenbrock", dict(n=n, bias=None, noise=None))]


def _nonsmooth_problems(n):
    return [("L1 distance", "l1", dict(n=n, bias=0.5, noise=0.5)),
            ("max distance", "maxabs", dict(n=n, bias=0.5, noise=0.5)),
            ("least absolute deviations", "lad", dict(n=n, bias=0.5, noise=0.5))]


def _useless_problems(n):
    return [("sphere", "sphere", dict(n=n, bias=0.0, noise=0.0, useless=True)),
            ("quadratic 1e3", "rotated", dict(n=n, cond=1e3, bias=0.0, noise=0.0,
                                              useless=True)),
            ("Rosenbrock", "rosenbrock", dict(n=n, bias=0.0, noise=0.0, useless=True))]


def _alpha_problems(n):
    """Mixes of bias and noise unlike those alpha='auto' was tuned on (the paper's
    quadratic, n = 1000, in `benchmarks/adaptive.py`)."""
    return [("quadratic 1e3, noise 3", "rotated", dict(n=n, cond=1e3, bias=0.0, noise=3.0)),
            ("quadratic 1e3, bias 2", "rotated", dict(n=n, cond=1e3, bias=2.0, noise=0.0)),
            ("quadratic 1e3, bias 0.2, noise 0.2", "rotated",
             dict(n=n, cond=1e3, bias=0.2, noise=0.2)),
            ("Rosenbrock, bias 2", "rosenbrock", dict(n=n, bias=2.0, noise=0.0))]


def _grid_problems(n):
    return [("sphere", "sphere", dict(n=n, bias=0.5, noise=0.5)),
            ("quadratic 1e3", "rotated", dict(n=n, cond=1e3, bias=0.5, noise=0.5)),
            ("Rosenbrock", "rosenbrock", dict(n=n, bias=0.5, noise=0.5))]


def _grid():
    return tuple((c, s) for c in GRID_C for s in GRID_S)


def build(factory, kwargs, seed, c=1.0, s=1.0):
    """One problem of the suite, rescaled to ``c f(x / s)`` unless c = s = 1."""
    kw = dict(kwargs)
    if factory == "paper":
        p = F.PaperQuadratic(seed=seed, **kw)
    elif factory == "logistic":
        p = F.Logistic(seed=seed, **kw)
    elif factory in ("sphere", "rotated", "rosenbrock", "l1", "maxabs", "lad"):
        bias, noise = kw.pop("bias"), kw.pop("noise")
        useless = kw.pop("useless", False)
        cls = dict(sphere=F.Sphere, rotated=F.RotatedQuadratic, rosenbrock=F.Rosenbrock,
                   l1=F.L1Distance, maxabs=F.MaxDistance,
                   lad=F.LeastAbsoluteDeviations)[factory]
        p = cls(kw.pop("n"), seed, bias, noise, **kw)
        if useless:
            p = F.Uninformative(p)
    elif factory == "signnet":
        p = F.SignNetwork(seed=seed, **kw)
    elif factory == "unrolled":
        p = F.Unrolled(seed=seed, **kw)
    elif factory == "attack":
        p = F.AttackImage(kw["index"])
        p.stop_below = 0.0
    else:
        raise ValueError(f"unknown problem factory {factory!r}")
    if c != 1.0 or s != 1.0:
        p = F.Rescaled(p, c, s)
    return p


def _jobs(family, spec):
    """(problem label, factory, kwargs, c, s, seed, method, budget): every run of a family."""
    if family == "attack":
        problems = [(f"image {i}", "attack", dict(index=i))
                    for i in F.correctly_classified(spec["images"])]
    else:
        problems = spec["problems"]
    methods = method_table(spec["kind"], spec.get("extra", ()))
    jobs = []
    for label, factory, kwargs in problems:
        for c, s in spec["scalings"]:
            scaled = (c, s) != (1.0, 1.0) and family != "rescaling"
            seeds = spec.get("scaled_seeds", spec["seeds"]) if scaled else spec["seeds"]
            caps = spec.get("scaled_caps", {}) if scaled else spec.get("caps", {})
            for m in methods:
                for seed in range(min(seeds, caps.get(m.key, seeds))):
                    jobs.append((label, factory, kwargs, c, s, seed, m, spec["budget"]))
    jobs.sort(key=lambda j: j[6].key not in SLOW)        # slow peers first
    return jobs


def _run_job(job):
    label, factory, kwargs, c, s, seed, method, budget = job
    import warnings
    warnings.simplefilter("ignore")      # pycma's NeverTestedWarning for gradf, etc.
    with threadpool_limits(1):
        problem = build(factory, kwargs, seed, c, s)
        gap0 = problem.gap(problem.x0)
        cosine0 = F.surrogate_cosine(problem)
        problem.reset_noise()
        t, cpu = time.perf_counter(), time.process_time()
        trace = method.run(problem, budget, seed)
        trace.seconds = time.perf_counter() - t
        trace.cpu_seconds = time.process_time() - cpu
    return dict(problem=label, c=c, s=s, seed=seed, key=method.key, label=method.label,
                source=method.source, measures=method.measures, trace=trace, gap0=gap0,
                cosine0=cosine0, n=problem.n, known=problem.f_star is not None,
                describe=problem.describe())


def run_family(family, spec, pool, log):
    jobs = _jobs(family, spec)
    start = time.perf_counter()
    runs = pool(delayed(_run_job)(j) for j in jobs)
    wall = time.perf_counter() - start
    log(f"{family}: {len(runs)} runs, {wall:.0f} s wall, "
        f"{sum(r['trace'].cpu_seconds for r in runs):.0f} CPU-s")
    return dict(runs=runs, wall=wall, spec=spec, stamp=_report.run_stamp())


# -- analysis --------------------------------------------------------------------------
def pairs_of(runs):
    """Group runs by (problem, c, s, seed); each pair's reference fL and its traces
    measured from fL (f* where known, else the best value any method recorded)."""
    groups = {}
    for r in runs:
        groups.setdefault((r["problem"], r["c"], r["s"], r["seed"]), []).append(r)
    pairs = {}
    for key, rs in groups.items():
        known = rs[0]["known"]
        fL = 0.0 if known else min(float(np.min(r["trace"].gap)) for r in rs)
        traces = {}
        for r in rs:
            t = r["trace"]
            traces[r["label"]] = Trace(t.evals, np.asarray(t.gap, float) - fL, t.note,
                                       t.seconds, t.cpu_seconds, t.final - fL, t.extra)
        pairs[key] = dict(n=rs[0]["n"], f0=rs[0]["gap0"] - fL, fL=0.0, traces=traces,
                          known=known, cosine0=rs[0]["cosine0"],
                          describe=rs[0]["describe"])
    return pairs


def _methods_in(runs, kind):
    """The methods that ran, in the order of the method table of the family's `kind`."""
    seen = {}
    for r in runs:
        seen.setdefault(r["label"], r)
    order = {m.label: i for i, m in enumerate(method_table(kind, tuple(EXTRA_LABELS)))}
    return sorted(seen.values(), key=lambda r: order.get(r["label"], 99))


def summary_rows(pairs, problem, c, s, budget, methods):
    """Per method: relative gaps at the budget over seeds, evaluations to the targets."""
    rows = []
    sel = [p for (pr, cc, ss, _), p in sorted(pairs.items(), key=lambda kv: kv[0][3])
           if pr == problem and cc == c and ss == s]
    for m in methods:
        ts = [(p, p["traces"][m["label"]]) for p in sel if m["label"] in p["traces"]]
        if not ts:
            continue
        gaps = np.array([t.at(budget) for _, t in ts])
        rel = np.array([t.at(budget) / p["f0"] for p, t in ts])
        row = dict(label=m["label"], source=m["source"], measures=m["measures"],
                   seeds=len(ts), median=float(np.median(gaps)), low=float(gaps.min()),
                   high=float(gaps.max()), rel=float(np.median(rel)),
                   seconds=float(np.median([t.seconds for _, t in ts])),
                   notes=sorted({t.note for _, t in ts}))
        for target in TARGETS:
            hits = np.array([t.first_reaching(target * p["f0"]) for p, t in ts], float)
            reached = int(np.isfinite(hits).sum())
            row[target] = (float(np.median(hits)) if reached * 2 >= len(ts) else np.inf,
                           reached)
        rows.append(row)
    peers = [r for r in rows if r["source"] == "peer"]
    best = min(peers, key=lambda r: r["rel"]) if peers else None
    for r in rows:
        r["vs_best"] = (r["rel"] / best["rel"]) if best and best["rel"] > 0 else np.nan
    return rows, best


def _fmt(x):
    return _report.fmt_gap(x)


def _fmt_ratio(x):
    if not np.isfinite(x):
        return "n/a"
    return f"{x:.2g}"


def family_table(rows, budget):
    out = [f"| method | measured | seeds | median f - f* at {budget:,} | range | "
           f"median relative to the start | "
           + " | ".join(f"evals to {t:g} of the start (seeds reaching)" for t in TARGETS)
           + " | median / best peer's | s / run |",
           "|" + "---|" * (8 + len(TARGETS))]
    for r in rows:
        reach = " | ".join(f"{_report.fmt_evals(r[t][0])} ({r[t][1]}/{r['seeds']})"
                           for t in TARGETS)
        out.append(f"| {r['label']} | {r['measures']} | {r['seeds']} | **{_fmt(r['median'])}** | "
                   f"{_fmt(r['low'])} - {_fmt(r['high'])} | {_fmt(r['rel'])} | {reach} | "
                   f"{_fmt_ratio(r['vs_best'])} | {r['seconds']:.1f} |")
    return out


def convergence_figure(pairs, problem, methods, budget, path, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    grid = np.unique(np.linspace(0, budget, 301).astype(int))
    sel = [p for (pr, c, s, _), p in pairs.items() if pr == problem and c == 1 and s == 1]
    fig, ax = plt.subplots(figsize=(10, 4.8))
    for m in methods:
        curves = [p["traces"][m["label"]].on_grid(grid) / p["f0"] for p in sel
                  if m["label"] in p["traces"]]
        if not curves:
            continue
        curves = np.array(curves)
        curves = np.where(curves > 0, curves, np.nan)
        with np.errstate(invalid="ignore"), __import__("warnings").catch_warnings():
            __import__("warnings").simplefilter("ignore")
            mid = np.nanmedian(curves, axis=0)
        ax.plot(grid, mid, "-" if m["source"] == "library" else "--",
                lw=2 if m["source"] == "library" else 1.3,
                label=f"{m['label']} ({len(curves)})")
    ax.set_yscale("log")
    ax.set(xlabel="function evaluations", ylabel="(f - f*) / (f(x0) - f*), median",
           title=title, xlim=(0, budget))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def profile_figure(profiles, counts, kappas, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(TAUS), figsize=(15, 4.8), sharey=True)
    for j, (ax, tau) in enumerate(zip(axes, TAUS)):
        for label, prof in profiles.items():
            lib = label.startswith(("Guided ES", "Vanilla ES"))
            ax.step(kappas, prof[j], where="post", lw=2 if lib else 1.2,
                    ls="-" if lib else "--", label=f"{label} ({counts[label]})")
        ax.set(xscale="log", xlabel="evaluations / (n + 1)", title=f"tau = {tau:g}",
               ylim=(0, 1.02))
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("fraction of (problem, seed) pairs solved")
    axes[-1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def rescaling_rows(fam):
    """The 27 cells: median relative gap of the library and CMA-ES with gradf."""
    pairs = pairs_of(fam["runs"])
    budget = fam["spec"]["budget"]
    rows = []
    for label, _, _ in fam["spec"]["problems"]:
        for c, s in fam["spec"]["scalings"]:
            sel = [p for (pr, cc, ss, _), p in pairs.items() if (pr, cc, ss) == (label, c, s)]
            lib = [p["traces"]["Guided ES, library defaults"] for p in sel]
            cma = [p["traces"]["pycma CMA-ES, ask(gradf=surrogate)"] for p in sel]
            rl = float(np.median([t.at(budget) / p["f0"] for p, t in zip(sel, lib)]))
            rc = float(np.median([t.at(budget) / p["f0"] for p, t in zip(sel, cma)]))
            diverged = sum(t.final > p["f0"] for p, t in zip(sel, lib))
            rows.append(dict(problem=label, c=c, s=s, lib=rl, cma=rc, seeds=len(sel),
                             ratio=rl / rc if rc > 0 else np.inf, diverged=diverged))
    return rows


def rescaling_table(rows):
    out = ["| problem | f x | x x | library defaults: median (f - f*) / start | "
           "CMA-ES with gradf: median (f - f*) / start | library / CMA-ES | "
           "library runs diverged (final f above the start) |",
           "|---|---|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['problem']} | {r['c']:g} | {r['s']:g} | {_fmt(r['lib'])} | "
                   f"{_fmt(r['cma'])} | {_fmt_ratio(r['ratio'])} | "
                   f"{r['diverged']}/{r['seeds']} |")
    return out


# -- the report ------------------------------------------------------------------
def _what(family, fam, pairs):
    spec = fam["spec"]
    descr = sorted({(k[0], p["describe"].split(", f x")[0], p["cosine0"])
                    for k, p in pairs.items() if k[1] == 1 and k[2] == 1 and k[3] == 0})
    text = [f"Budget {spec['budget']:,} evaluations; "
            + (f"{len(descr)} images, one run per method each" if family == "attack"
               else f"{spec['seeds']} seeds")
            + ((f" ({spec.get('scaled_seeds', spec['seeds'])} for the rescaled problems)")
               if len(spec["scalings"]) > 1 and family != "rescaling" else "")
            + "."]
    caps = spec.get("caps", {})
    if caps:
        text.append("Fewer seeds for the slow peers, to keep the full run within its time "
                    "limit: " + ", ".join(f"{k} {v}" for k, v in caps.items())
                    + (", and on the rescaled problems "
                       + ", ".join(f"{k} {v}" for k, v in spec.get("scaled_caps", {}).items())
                       if spec.get("scaled_caps") else "") + ".")
    if family != "attack":
        for label, d, cos in descr:
            cos_text = (f"cosine of the surrogate with the true gradient at x0 {cos:.2f}"
                        if np.isfinite(cos) else
                        "no true gradient to compare the surrogate with"
                        if family in ("signnet",) else "no surrogate")
            text.append(f"- {label}: {d}; {cos_text} (seed 0).")
    if not all(p["known"] for p in pairs.values()):
        text.append("f* is unknown here: f - f* is measured from the best value any "
                    "method reached on the same seed (Moré and Wild's convention).")
    return text


def family_section(family, fam, fig_dir, rel_dir):
    pairs = pairs_of(fam["runs"])
    spec, budget = fam["spec"], fam["spec"]["budget"]
    methods = _methods_in(fam["runs"], spec["kind"])
    out = [f"## {TITLES[family]}", ""] + _what(family, fam, pairs) + [""]
    if family == "attack":
        return out + attack_section(fam, methods)
    problems = spec["problems"]
    for label, _, _ in problems:
        for c, s in spec["scalings"]:
            rows, best = summary_rows(pairs, label, c, s, budget, methods)
            scale = "" if (c, s) == (1, 1) else f", f x {c:g}, x x {s:g}"
            out += [f"### {label}{scale}", ""] + family_table(rows, budget) + [""]
            if best is not None:
                out += [f"Best peer (median relative f - f* at the budget): **{best['label']}**.", ""]
            if family == "useless":
                out += useless_ratio(rows)
            if family == "alpha":
                out += alpha_ratio(rows)
        name = f"{family}_{re.sub(r'[^A-Za-z0-9.]+', '_', label)}.png"
        convergence_figure(pairs, label, methods, budget, os.path.join(fig_dir, name),
                           f"{TITLES[family]}: {label}")
        out += [f"![{label}]({rel_dir}/{name})", ""]
        if len(spec["scalings"]) > 1:
            out += invariance_table(pairs, label, spec["scalings"], budget, methods)
    if family == "rescaling":
        out += rescaling_part(fam)
    notes = {}
    for r in fam["runs"]:
        notes.setdefault(r["label"], set()).add(r["trace"].note)
    out += ["Notes on the runs (distinct messages):", ""]
    for label, ns in notes.items():
        ns = sorted(ns)
        out.append(f"- {label}: " + "; ".join(ns[:3]) + (f"; ... ({len(ns)} distinct)"
                                                          if len(ns) > 3 else ""))
    return out + [""]


def useless_ratio(rows):
    """The defaults given a useless surrogate against vanilla ES with the same step rule."""
    rel = {r["label"]: r["rel"] for r in rows}
    mine = rel.get("Guided ES, library defaults")
    vanilla = rel.get("Vanilla ES, library defaults with alpha=1 (no surrogate)")
    if mine is None or vanilla is None:
        return []
    floor = 1e-15            # both at the precision of f: the ratio means nothing
    if max(mine, vanilla) <= floor:
        text = "both at the precision of f (relative gaps <= 1e-15)"
    else:
        text = f"{max(mine, floor) / max(vanilla, floor):.2f}"
    return ["Median relative gap of the defaults given the useless surrogate over that of "
            f"vanilla ES with the same adaptation: **{text}** (below 1: the useless "
            "surrogate costs nothing).", ""]


def alpha_ratio(rows):
    """alpha='auto' and the default alpha against the best fixed alpha of the table."""
    rel = {r["label"]: r["rel"] for r in rows}
    auto = rel.get("Guided ES, alpha='auto'")
    default = rel.get("Guided ES, library defaults")
    if auto is None or default is None:
        return []
    fixed = {k: v for k, v in rel.items()
             if k.startswith("Guided ES, alpha=0") or k == "Guided ES, library defaults"}
    best = min(fixed, key=fixed.get)
    floor = 1e-15
    ratio = max(auto, floor) / max(fixed[best], floor)
    default = max(default, floor) / max(fixed[best], floor)
    best = ("0.75, the defaults" if best == "Guided ES, library defaults"
            else best.split("=")[1])
    return [f"alpha='auto' over the best fixed alpha ({best}): **{ratio:.2f}**; the "
            f"defaults (alpha = 0.75) over it: **{default:.2f}** (medians of the relative "
            "gap at the budget).", ""]


def invariance_table(pairs, label, scalings, budget, methods):
    out = [f"Invariance on {label}: median (f - f*) / start at the budget under each "
           "rescaling; the last column is the largest over the smallest (1 means "
           "invariant).", "",
           "| method | " + " | ".join(f"f x {c:g}, x x {s:g}" for c, s in scalings)
           + " | max / min |", "|" + "---|" * (len(scalings) + 2)]
    for m in methods:
        vals = []
        for c, s in scalings:
            rows, _ = summary_rows(pairs, label, c, s, budget, [m])
            vals.append(rows[0]["rel"] if rows else np.nan)
        v = np.array(vals)
        spread = (np.nanmax(v) / np.nanmin(v)) if np.all(v > 0) else np.nan
        out.append(f"| {m['label']} | " + " | ".join(_fmt(x) for x in vals)
                   + f" | {_fmt_ratio(spread)} |")
    return out + [""]


def attack_section(fam, methods):
    budget = fam["spec"]["budget"]
    out = [f"Success: the first query with the forest's margin below 0 (the image is "
           f"misclassified); every query counted, at most {budget} per image. The "
           f"objective is the margin at x clipped to the L-infinity ball of radius 0.1 "
           f"around the image and to [0, 1] (`benchmarks._families.AttackImage`).", "",
           f"| method | images fooled | fooled within 100 queries | median queries (fooled images) |",
           "|---|---|---|---|"]
    for m in methods:
        q = []
        for r in fam["runs"]:
            if r["label"] == m["label"]:
                t = r["trace"]
                q.append(t.first_reaching(-1e-12) if t.gap[-1] < 0 else np.inf)
        q = np.array(q, float)
        ok = np.isfinite(q)
        med = f"{np.median(q[ok]):.0f}" if ok.any() else "n/a"
        out.append(f"| {m['label']} | {ok.sum()}/{q.size} ({ok.mean():.0%}) | "
                   f"{(q <= 100).sum()}/{q.size} | {med} |")
    return out + [""]


def rescaling_part(fam):
    rows = rescaling_rows(fam)
    bad = [r for r in rows if not r["lib"] <= r["cma"]]
    sphere = [r for r in rows if r["problem"] == "sphere"]
    div = sum(r["diverged"] for r in rows)
    out = ["### The 27 cells", "",
           "Each cell is g(x) = c f(x / s) with the optimum, x0 and the surrogate moved "
           "with x, and CMA-ES's sigma0 a tenth of the x scale (0.1 s). "
           "Values: median over seeds of (f - f*) / (f(x0) - f*) at the budget.", ""]
    out += rescaling_table(rows) + [""]
    out += [f"In {len(rows) - len(bad)} of {len(rows)} cells the library's defaults end at "
            f"least as close to f* as CMA-ES with gradf; on the sphere the library reaches "
            f"1e-8 of the start in {sum(r['lib'] <= 1e-8 for r in sphere)} of "
            f"{len(sphere)} cells; {div} library runs diverged.", ""]
    return out


def suite_profile(results, fig_dir, rel_dir):
    pairs = []
    for family, fam in results["families"].items():
        if family in ("attack", "useless"):
            continue
        for pair in pairs_of(fam["runs"]).values():
            # the fixed alphas ran on one family only: profiled, they would seem
            # better than methods that also met the hard problems
            pair["traces"] = {label: t for label, t in pair["traces"].items()
                              if not label.startswith("Guided ES, alpha=0")}
            pairs.append(pair)
    if not pairs:
        return []
    kappas = np.unique(np.concatenate([np.geomspace(0.1, 1000, 200), [1, 2, 5, 10, 20, 50,
                                                                      100, 200]]))
    profiles, counts = data_profile(pairs, TAUS, kappas)
    profile_figure(profiles, counts, kappas, os.path.join(fig_dir, "data_profile.png"))
    show = (1, 2, 5, 20, 100, 200)
    idx = [int(np.flatnonzero(kappas == k)[0]) for k in show]
    out = ["## Data profile over the suite", "",
           "Moré and Wild's data profile: the fraction of (problem, seed) pairs a method "
           "solves, i.e. brings f - f* down to tau times its start, within kappa (n + 1) "
           "evaluations, for every pair of every family above except the attack "
           "(whose measure is success, not a gap) and the useless surrogate (whose "
           "problems and peers' runs repeat those without a surrogate), and for every "
           "method but the fixed alphas of the alpha family, each rescaled problem and rescaling-grid "
           "cell counting as its own problem. Each method is profiled over the pairs it "
           "was run on (their number in brackets); f* is the best value any method "
           "reached where it is unknown.", "",
           f"![data profile]({rel_dir}/data_profile.png)", "",
           "| method (pairs) | tau | " + " | ".join(f"kappa = {k}" for k in show) + " |",
           "|" + "---|" * (2 + len(show))]
    for label, prof in profiles.items():
        for j, tau in enumerate(TAUS):
            out.append(f"| {label} ({counts[label]}) | {tau:g} | "
                       + " | ".join(f"{prof[j, i]:.2f}" for i in idx) + " |")
    return out + [""]


def write_report(results, out_dir):
    fig_dir = os.path.join(out_dir, "benchmarks")
    os.makedirs(fig_dir, exist_ok=True)
    quick = results["quick"]
    fams = results["families"]
    wall = sum(f["wall"] for f in fams.values())
    lines = ["# Benchmarks: Guided ES against its peers", "",
             "*Generated by `python -m benchmarks` (`benchmarks/run.py`); do not edit by hand.*"
             + (" **Quick mode: a smoke run on tiny problems; the numbers mean nothing.**"
                if quick else ""), "",
             f"Command: `{results['cmd']}` from the repository root, {results['jobs']} "
             f"workers; wall time of the runs {wall / 60:.1f} min in all: "
             + ", ".join(f"{k} {f['wall'] / 60:.1f} min" for k, f in fams.items()) + ".", ""]
    lines += results["machine"] + [""]
    stamps = {k: f.get("stamp") for k, f in fams.items()}
    sources = {(v or "").rpartition("sources ")[2] for v in stamps.values()}
    if len(sources) > 1 or "--only" in results["cmd"]:
        lines += ["The families were run at different times (merged with `--only`) or on "
                  "different library sources; date and library sources of each: "
                  + "; ".join(f"{k} {v or 'not recorded'}" for k, v in stamps.items()) + ".",
                  ""]
    lines += [
        "How methods are run: each at its documented defaults. The library is called as "
        "`minimize_guided_es(fun, x0, surrogate, maxfev=budget, rng=seed)` and nothing "
        "else ('library defaults'); 'paper settings' passes "
        + ", ".join(f"{k}={v!r}" for k, v in PAPER.items())
        + " (vanilla ES the same with alpha=1.0 and no surrogate); \"alpha='auto'\" passes "
        "only that, and 'nonmonotone=30' (the option suggested for piecewise-constant "
        "objectives, on the sign network only) only that. Peers that need an initial step size get one rule for every problem: "
        "sigma0 = x_scale / 10, x_scale being the family's stated per-coordinate size of "
        "x0 - x* (CMA-ES's sigma0, NGOpt's mutation sigma, SGES's sigma); Adam on the "
        "surrogate uses lr = sigma0 / 10 (betas 0.9, 0.999, eps 1e-8); P-RGF and SGES "
        "(written for this suite, `benchmarks/prgf.py`, `benchmarks/sges.py`) step with "
        "Adam at lr = sigma0, as they take one step per 10 to 22 evaluations; P-RGF's "
        "forward-difference step is sigma0 / 100, with q = 10 directions and 10 more for "
        "the norm of the gradient. pycma gets the surrogate through "
        "`ask(gradf=surrogate)`.", "",
        "How progress is measured: the library's centre through its callback (running "
        "minimum; every iteration up to the 100th, then every "
        f"{RECORD_EVERY}th; where it stops by itself, its last value holds to the budget), "
        "Adam's iterate, and the best point evaluated so far for every other peer. An "
        "evaluation is a call of f; surrogate calls are free except for Adam on the "
        "surrogate, which counts each as one evaluation. Every peer stops at the budget "
        "exactly. 'Evals to t' is the median over seeds of the first recorded count with "
        "f - f* <= t (f(x0) - f*), 'not reached' when fewer than half the seeds get there. "
        "'median / best peer's' divides a method's median relative f - f* by that of the "
        "best peer (below 1: better than every peer).", ""]
    for family in FAMILIES:
        if family in fams:
            lines += family_section(family, fams[family], fig_dir, "benchmarks")
    lines += suite_profile(results, fig_dir, "benchmarks")
    if "overhead" in results:
        from ._overhead_report import overhead_section
        ov = results["overhead"]
        lines += overhead_section(ov["overhead"], ov["scaling"], ov["profile"])
    lines += ["## References", "",
              "- N. Maheswaranathan, L. Metz, G. Tucker, D. Choi, J. Sohl-Dickstein, \"Guided "
              "evolutionary strategies: augmenting random search with surrogate gradients\", "
              "ICML 2019, arXiv:1806.10230.",
              "- S. Cheng, Y. Dong, T. Pang, H. Su, J. Zhu, \"Improving black-box adversarial "
              "attacks with a transfer-based prior\", NeurIPS 2019, arXiv:1906.06919 (P-RGF).",
              "- F.-Y. Liu, Z.-N. Li, C. Qian, \"Self-guided evolution strategies with "
              "historical estimated gradients\", IJCAI 2020 (SGES).",
              "- J. J. Moré, S. M. Wild, \"Benchmarking derivative-free optimization "
              "algorithms\", SIAM J. Optim. 20(1), 2009 (data profiles).",
              "- N. Hansen, pycma (`cma.CMAEvolutionStrategy`, `ask(gradf=...)`); J. Rapin, "
              "O. Teytaud, Nevergrad (`NGOpt`); D. P. Kingma, J. Ba, \"Adam\", ICLR 2015; "
              "`scipy.optimize.minimize` (Powell, L-BFGS-B).", ""]
    path = os.path.join(out_dir, "benchmarks.md")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines))
    return path


def _results_path(quick):
    return os.path.join(REPO, "benchmarks", "out",
                        "last_results_quick.pkl" if quick else "last_results.pkl")


def _merge_problem(args, results):
    """Why a run would write a report to docs/ that lacks families, or None.

    ``--only`` (and ``--report-only``) merge into the saved results of the
    last run; where those lack a family (a fresh checkout has none), the
    report written over the committed one would lose that family's section.
    """
    if not (args.only or args.report_only) or args.out or args.quick:
        return None
    have = set(results["families"]) | set(args.only or ())
    missing = [f for f in FAMILIES if f not in have]
    if not missing:
        return None
    return (f"the saved results ({_results_path(False)}) lack the families "
            f"{', '.join(missing)}, so the report written to docs/ would lose "
            "them; run `python -m benchmarks` once for all families, or give "
            "--out DIR to write this partial report elsewhere")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run on tiny problems (< 2 minutes); numbers mean nothing")
    parser.add_argument("--only", choices=FAMILIES + ("overhead",), action="append",
                        help="run only this family (repeatable); merged into the saved "
                             "results of the last run of the same mode")
    parser.add_argument("--out", default=None, help="output directory (default: docs/ "
                        "for the full run, benchmarks/out/ for --quick)")
    parser.add_argument("--jobs", type=int, default=2, help="parallel workers (default 2)")
    parser.add_argument("--report-only", action="store_true",
                        help="rewrite the report from the saved results, without running")
    args = parser.parse_args(argv)
    out_dir = args.out or os.path.join(REPO, "benchmarks/out" if args.quick else "docs")
    start = time.perf_counter()

    def log(msg):
        print(f"[{time.perf_counter() - start:6.0f} s] {msg}", flush=True)

    saved = _results_path(args.quick)
    results = None
    if (args.only or args.report_only) and os.path.exists(saved):
        with open(saved, "rb") as fh:
            results = pickle.load(fh)
    if results is None:
        results = dict(families={}, quick=args.quick)
    problem = _merge_problem(args, results)
    if problem:
        parser.error(problem)
    if not args.report_only:
        spec = _spec(args.quick)
        todo = [f for f in (args.only or FAMILIES) if f != "overhead"]
        with Parallel(n_jobs=args.jobs, batch_size=1) as pool:
            for family in todo:
                results["families"][family] = run_family(family, spec[family], pool, log)
        if args.only and "overhead" in args.only:
            from . import _scaling
            with threadpool_limits(1):
                results["overhead"] = dict(
                    overhead=_scaling.measure_overhead(n=1000, iterations=2000, repeats=2),
                    scaling=_scaling.measure_scaling(ns=(10**3, 10**4, 10**5), work=10**6,
                                                     repeats=1),
                    profile=_scaling.profile_library(n=1000, iterations=500))
            log("overhead done")
        results["machine"] = _report.machine_info()
        results["jobs"] = args.jobs
        results["cmd"] = ("python -m benchmarks" + (" --quick" if args.quick else "")
                          + "".join(f" --only {f}" for f in (args.only or []))
                          + (f" --out {args.out}" if args.out else "")
                          + (f" --jobs {args.jobs}" if args.jobs != 2 else ""))
        os.makedirs(os.path.dirname(saved), exist_ok=True)
        with open(saved, "wb") as fh:
            pickle.dump(results, fh)
    if "rescaling" in results["families"]:
        print("\n".join(rescaling_table(rescaling_rows(results["families"]["rescaling"]))))
    path = write_report(results, out_dir)
    log(f"wrote {path}")
    return path


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
