"""Benchmarks of Guided ES against its peers: one command, one report.

Usage, from the repository root::

    python -m benchmarks                 # full run, writes docs/benchmarks.md
    python -m benchmarks --quick         # ~1 minute smoke run, benchmarks/out/
    python -m benchmarks --out DIR       # report and figures into DIR

The report ``benchmarks.md`` and its figures (``benchmarks/*.png`` next to
it) cover:

1. quality on the paper's perturbed quadratic (n = 1000, m = 2000, bias 1,
   noise 1.5; Maheswaranathan et al. 2019, figure 1) at 20,000
   evaluations, against every peer;
2. the same comparison on a second family, logistic regression with a
   subsampled half-precision surrogate gradient;
3. the library's overhead against a bare numpy loop, and time and memory
   per iteration against n.

Independent (method, seed) runs go to a ``joblib.Parallel`` pool (``--jobs``,
default 2), each on one BLAS thread. The methods are listed in
`benchmarks._methods.method_table`; how each is recorded and counted is
described there and in the report.
"""

import argparse
import os
import pickle
import sys
import time

import numpy as np
from joblib import Parallel, delayed
from threadpoolctl import threadpool_limits

from . import _report, _scaling
from ._methods import RECORD_EVERY, method_table
from ._problems import BiasedLogistic, FastQuadratic, check_same

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

FULL = dict(
    quadratic=dict(n=1000, m=2000, budget=20_000, seeds=5,
                   seed_caps=dict(gd=2, nelder_mead=1, cma=2, ngopt=2),
                   targets=(0.01, 0.004), cma_sigma0=0.03,
                   gd_rates=(0.002, 0.005, 0.01, 0.02)),
    logistic=dict(n=100, m=1000, budget=10_000, seeds=5,
                  seed_caps=dict(gd=2, nelder_mead=2, cma=3, ngopt=3),
                  targets=(0.01, 0.001), cma_sigma0=0.3,
                  gd_rates=(0.1, 0.3, 1.0)),
    overhead=dict(n=1000, iterations=10_000, quadratic_iterations=1_000,
                  wide_iterations=2_000, repeats=3),
    scaling=dict(ns=(10**3, 10**4, 10**5, 10**6), work=10**7, repeats=2),
    profile=dict(n=1000, iterations=2000),
    profile_large=dict(n=10**5, iterations=50, k=10, P=10),
)
QUICK = dict(
    quadratic=dict(n=100, m=200, budget=2_000, seeds=1, seed_caps={},
                   targets=(0.01, 0.004), cma_sigma0=0.1,
                   gd_rates=(0.005, 0.01)),
    logistic=dict(n=20, m=200, budget=1_000, seeds=1, seed_caps={},
                  targets=(0.01, 0.001), cma_sigma0=0.3, gd_rates=(0.3,)),
    overhead=dict(n=1000, iterations=300, repeats=1),
    scaling=dict(ns=(10**3, 10**4), work=10**6, min_iterations=3, repeats=1),
    profile=dict(n=1000, iterations=200),
    profile_large=dict(n=10**4, iterations=20, k=10, P=10),
)

#: f - f* at 20,000 evaluations on the perturbed quadratic measured elsewhere:
#: one seed outside the project (issue 5), and Figure 1 of the paper.
REFERENCE = {
    "Guided ES, paper settings": ("0.0039", "0.003"),
    "Guided ES, recommended": ("0.0007 (k=10, lr=0.4)", ""),
    "Vanilla ES": ("0.039", "0.036"),
    "GD on surrogate": ("0.074", "0.06"),
    "scipy Powell": ("0.012", ""),
    "pycma CMA-ES": ("0.010", "0.012"),
    "nevergrad NGOpt": ("0.0077 (median of 4 seeds: 0.0068)", ""),
}


# -- running ----------------------------------------------------------------------
def _run_one(method, problem, budget, seed):
    with threadpool_limits(1):
        problem.reset_noise()
        t, cpu = time.perf_counter(), time.process_time()
        trace = method.run(problem, budget, seed)
        trace.seconds = time.perf_counter() - t
        trace.cpu_seconds = time.process_time() - cpu
    return trace


def _build(cls, kwargs, seed):
    with threadpool_limits(1):
        return cls(seed=seed, **kwargs)


def run_family(cls, problem_kwargs, spec, pool):
    """Run every method of the table on `spec['seeds']` problems; traces by label."""
    methods, skipped = method_table(cma_sigma0=spec["cma_sigma0"],
                                    gd_rates=spec["gd_rates"],
                                    seed_caps=spec["seed_caps"])
    problems = pool(delayed(_build)(cls, problem_kwargs, s)
                    for s in range(spec["seeds"]))
    jobs = [(m, s) for m in methods for s in range(min(spec["seeds"],
                                                       m.seeds or spec["seeds"]))]
    # slow peers first, so that the two workers finish together
    jobs.sort(key=lambda job: job[0].seeds is None)
    results = pool(delayed(_run_one)(m, problems[s], spec["budget"], s)
                   for m, s in jobs)
    traces = {m.label: [] for m in methods}
    for (m, s), trace in zip(jobs, results):
        traces[m.label].append(trace)
    return methods, skipped, traces, problems


_CAP_NAMES = dict(gd="each learning rate of the descent sweep",
                  nelder_mead="Nelder-Mead", cma="CMA-ES", ngopt="NGOpt")


def _seeds(spec):
    text = f"{spec['seeds']} seed{'s' if spec['seeds'] > 1 else ''}"
    caps = {k: v for k, v in spec["seed_caps"].items() if v < spec["seeds"]}
    if caps:
        text += (" (fewer, to keep the run within its time limit on a shared "
                 "machine, for " + ", ".join(f"{_CAP_NAMES[k]}: {v}"
                                             for k, v in caps.items()) + ")")
    return text


# -- the report -------------------------------------------------------------------------
def _reference_columns(label):
    for prefix, ref in REFERENCE.items():
        if label.startswith(prefix):
            return ref
    return ("", "")


def _family_section(title, what, methods, skipped, traces, spec, fig_path,
                    fig_rel, with_reference):
    budget, targets = spec["budget"], spec["targets"]
    rows = _report.summarise(methods, traces, budget, targets)
    gd = [r for r in rows if r["label"].startswith("GD on surrogate")]
    best_gd = min(gd, key=lambda r: r["median"]) if gd else None
    hidden = {id(r) for r in gd if r is not best_gd}     # other learning rates
    shown = [r for r in rows if id(r) not in hidden]
    _report.convergence_figure([r["method"] for r in shown], traces, budget,
                               fig_path, title)
    ratios, bp = _report.ratio_table(shown, targets)
    out = [f"## {title}", "", what, "",
           _report.quality_table(shown, budget, targets), ""]
    if best_gd is not None and len(gd) > 1:
        out += [f"Gradient descent on the surrogate is shown at its best learning rate "
                f"of a sweep over {', '.join(r['label'].split('lr=')[1] for r in gd)} "
                f"(best by median at the budget):", "",
                "| learning rate | median f - f* at budget | range | best recorded along the path (seed 0) |",
                "|---|---|---|---|"]
        for r in gd:
            ts = traces[r["label"]]
            note = ts[0].note
            along = note.split("along the path ")[-1] if "along the path" in note else ""
            n_div = sum("diverged" in t.note for t in ts)
            div = f" (diverged on {n_div}/{len(ts)} seeds)" if n_div else ""
            out.append(f"| {r['label'].split('lr=')[1]}{div} | {_report.fmt_gap(r['median'])} | "
                       f"{_report.fmt_gap(r['low'])} - {_report.fmt_gap(r['high'])} | {along} |")
        out.append("")
    out += [ratios, "", f"![{title}]({fig_rel})", ""]
    if with_reference:
        out += ["For context, f - f* at 20,000 evaluations measured elsewhere "
                "(not by this run):", "",
                "| method | one seed outside the project (issue 5) | paper, Figure 1 (read off) |",
                "|---|---|---|"]
        for r in shown:
            ext, paper = _reference_columns(r["label"])
            if ext or paper:
                out.append(f"| {r['label']} | {ext} | {paper} |")
        out.append("")
    out += ["Notes on individual runs:", ""]
    for r in shown:
        out.append(f"- {r['label']}: " + "; ".join(r["notes"]))
    for label, why in skipped.items():
        out.append(f"- {label}: {why}")
    out.append("")
    return out, rows, bp


def _overhead_section(overhead, scaling, profile, profile_only=False):
    if profile_only:
        return _profile_table(profile)
    out = ["## 3. Overhead and scaling", "",
           "Everything on one BLAS thread, timings the minimum over interleaved "
           "repeats; settings sigma 0.1, alpha 0.5, beta 2, SGD lr 0.2. The k = 10, "
           "P = 10 measurements use the cheap objective `f(x) = |x - 1|^2 / 2` with "
           "surrogate `x - 0.5`, O(n) each, so that the method's own work is what is "
           "timed.", "",
           "**Overhead.** `minimize_guided_es` against a bare numpy loop of the same "
           "iteration. The k = 1, P = 1 rows are the issue-2 measurement of "
           "`benchmarks/overhead.py` (its bare loop and objectives: the paper's "
           "perturbed quadratic, where the objective dominates, and a cheap sphere, "
           "where only the bookkeeping differs; the two loops follow the same path, "
           "'same x'). The k = 10, P = 10 row uses `bare_loop` of "
           "`benchmarks/_scaling.py` (deque of the k latest surrogate gradients, "
           "unpivoted thin QR, one draw of `z_n` and `z_k`, 2P evaluations, "
           "antithetic estimate, SGD step), whose basis differs from the library's "
           "pivoted one by a rotation, so the paths differ; the final f of each is "
           "shown instead. Per-iteration times are independent of the number of "
           "iterations; some rows are timed over fewer iterations "
           "than the issue's 10,000 to keep the run short.", "",
           "| objective | n | k | P | iterations | library µs / it | bare loop µs / it | ratio | same x |",
           "|---|---|---|---|---|---|---|---|---|"]
    for r in overhead:
        same = {True: "yes", False: "**no**"}.get(r["same"], r["same"])
        out.append(f"| {r['objective']} | {r['n']:,} | {r['k']} | {r['P']} | "
                   f"{r['iterations']:,} | {r['library'] * 1e6:.1f} | {r['bare'] * 1e6:.1f} | "
                   f"**{r['ratio']:.2f}x** | {same} |")
    out += ["", "**Scaling** at k = 10, P = 10. *Own* time is the library's time per "
            "iteration minus the time of the objective and surrogate calls it makes "
            "(2P + 1 per iteration, timed alone on the same arrays); *draws* is "
            "`rng.standard_normal((P, n))` plus `rng.standard_normal((P, k))`; *basis* "
            "is the update of the guiding basis for one new gradient (the Gram-matrix "
            "update of `GuidedES`, O(n k)); *QR basis* is, for comparison, "
            "`subspace_basis` of the whole n x k buffer (O(n k^2)). "
            "Peak memory is tracemalloc's peak over a 3-iteration run, also in units of "
            "n (k + P) doubles.", "",
            "| n | iterations timed | library ms / it | objective ms / it | own ms / it | draws ms / it | basis ms / it | QR basis ms | own / draws | peak memory | peak / (8 n (k+P) bytes) |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in scaling:
        out.append(f"| {r['n']:,} | {r['iterations']:,} | {r['library'] * 1e3:.3f} | "
                   f"{r['objective'] * 1e3:.3f} | {r['own'] * 1e3:.3f} | {r['random'] * 1e3:.3f} | "
                   f"{r['basis'] * 1e3:.3f} | {r['qr_basis'] * 1e3:.3f} | **{r['ratio']:.2f}x** | "
                   f"{r['peak'] / 2**20:.1f} MiB | {r['peak_units']:.2f} |")
    return out + [""] + _profile_table(profile)


def _profile_table(profile):
    when = (" (profiled when this report was rewritten, not during the run)"
            if profile.get("later") else "")
    out = [f"**Where the library's time goes** on the cheap sphere, n = "
            f"{profile['n']:,}, k = {profile['k']}, P = {profile['P']}: the functions with "
            f"the most own time under cProfile over {profile['iterations']:,} iterations"
            f"{when}. cProfile's own cost inflates every entry.", "",
            "| function | calls / it | own µs / it | share of the profiled time |",
            "|---|---|---|---|"]
    for p in profile["rows"]:
        out.append(f"| `{p['function']}` | {p['calls']:.2f} | {p['own'] * 1e6:.1f} | "
                   f"{p['share']:.0%} |")
    out.append("")
    return out


def _targets_section(res, quick, q_rows, q_bp, overhead, scaling, q_spec):
    rec = next((r for r in q_rows if r["label"].startswith("Guided ES, recommended")), None)
    out = ["## Targets (issue 5)", ""]
    if quick:
        out += ["*Quick mode: small problems and budgets; these verdicts do not "
                "apply to the library and are printed only to exercise the report.*", ""]
    out += ["| target | measured | met |", "|---|---|---|"]

    def row(name, value, ok):
        out.append(f"| {name} | {value} | {'yes' if ok else '**no**'} |")

    budget = q_spec["budget"]
    if rec is not None:
        row(f"median f - f* at {budget:,} evaluations <= 0.001 (recommended settings)",
            _report.fmt_gap(rec["median"]), rec["median"] <= 1e-3)
        if q_bp is not None:
            ratio = q_bp["median"] / rec["median"]
            row("at least 6x better than the best peer (median gap)",
                f"{ratio:.1f}x vs {q_bp['label']} ({_report.fmt_gap(q_bp['median'])})",
                ratio >= 6)
    for r in overhead:
        row(f"overhead <= 1.15x a bare numpy loop at n = {r['n']:,}: {r['objective']}, "
            f"k = {r['k']}, P = {r['P']}", f"{r['ratio']:.2f}x", r["ratio"] <= 1.15)
    big = max(scaling, key=lambda r: r["n"])
    row(f"own time per iteration within 2x of drawing the random numbers at n = {big['n']:,}",
        f"{big['ratio']:.2f}x", big["ratio"] <= 2)
    if not quick:
        row("full run under 20 minutes on 2 cores",
            f"{res['wall'] / 60:.1f} min wall on a shared machine (1-min load average "
            f"{res['machine_load_start']:.1f} at the start, {res['load_end']:.1f} at the end)"
            + _cpu_note(res), res["wall"] <= 20 * 60)
    units = [r["peak_units"] for r in scaling]
    row("memory O(n (k + P)), never O(n^2)",
        f"peak {min(units):.2f} - {max(units):.2f} x n (k + P) doubles over n = "
        f"{scaling[0]['n']:,} .. {big['n']:,}",
        max(units) <= 2 * min(units) + 1)
    out.append("")
    return out


#: Raw results of the last run of each mode, for ``--report-only``.
LAST_RESULTS = {False: os.path.join(REPO, "benchmarks", "out", "last_results.pkl"),
                True: os.path.join(REPO, "benchmarks", "out", "last_results_quick.pkl")}


def collect(spec, jobs, log):
    """Run the three parts; return everything the report needs (picklable)."""
    q, lg = spec["quadratic"], spec["logistic"]
    res = dict(spec=spec, jobs=jobs, machine=_report.machine_info(),
               machine_load_start=os.getloadavg()[0])
    start = time.perf_counter()
    with threadpool_limits(1):
        check_same(FastQuadratic(n=q["n"], m=q["m"], seed=0))
    log("fast quadratic matches ges_minimize.problems.PerturbedQuadratic")
    with Parallel(n_jobs=jobs, batch_size=1) as pool:
        methods, skipped, traces, problems = run_family(
            FastQuadratic, dict(n=q["n"], m=q["m"]), q, pool)
        res["quadratic"] = dict(methods=methods, skipped=skipped, traces=traces,
                                x_star_scale=float(np.linalg.norm(problems[0].x_star)
                                                   / np.sqrt(q["n"])))
        del problems
        log("part 1 (perturbed quadratic) done")
        methods, skipped, traces, problems = run_family(
            BiasedLogistic, dict(n=lg["n"], m=lg["m"]), lg, pool)
        p = problems[0]
        res["logistic"] = dict(methods=methods, skipped=skipped, traces=traces,
                               describe=p.describe(), gap0=p.gap(p.x0),
                               cosine0=p.surrogate_cosine(p.x0))
        log("part 2 (logistic regression) done")
    with threadpool_limits(1):
        res["overhead"] = _scaling.measure_overhead(**spec["overhead"])
        log("part 3 overhead done")
        res["scaling"] = _scaling.measure_scaling(**spec["scaling"])
        log("part 3 scaling done")
        res["profile"] = _scaling.profile_library(**spec["profile"])
        res["profile_large"] = _scaling.profile_library(**spec["profile_large"])
    res["wall"] = time.perf_counter() - start
    res["load_end"] = os.getloadavg()[0]
    return res


def _cpu_note(res):
    """Total CPU time of the (method, seed) runs, when it was recorded."""
    cpu = [getattr(t, "cpu_seconds", np.nan) for part in ("quadratic", "logistic")
           for ts in res[part]["traces"].values() for t in ts]
    if not cpu or not np.all(np.isfinite(cpu)):
        return ""
    return (f" (the runs of parts 1 and 2 used {sum(cpu) / 60:.1f} CPU-minutes in "
            f"all, {sum(cpu) / 60 / res['jobs']:.1f} min of wall time on "
            f"{res['jobs']} idle cores)")


def _short(function):
    """'path:line name' -> 'name'; builtins such as '<method ...>' unchanged."""
    return function if function.startswith("<") else function.split(" ")[-1]


def _row(rows, prefix):
    return next((r for r in rows if r["label"].startswith(prefix)), None)


def _second_half_factor(res, family, label, budget):
    """Median over seeds of gap(budget / 2) / gap(budget): > 1 means still falling."""
    ts = res[family]["traces"][label]
    return float(np.median([t.at(budget // 2) / t.at(budget) for t in ts]))


def _findings(res, q_rows, q_bp, l_rows, l_bp):
    """What the numbers say, in sentences generated from them."""
    q, lg = res["spec"]["quadratic"], res["spec"]["logistic"]
    out = ["## Findings", ""]
    rec = _row(q_rows, "Guided ES, recommended")
    paper = _row(q_rows, "Guided ES, paper settings")
    if rec is not None and q_bp is not None:
        f = _second_half_factor(res, "quadratic", rec["label"], q["budget"])
        verdict = ("meets" if rec["median"] <= 1e-3 else "misses")
        out.append(
            f"- **Perturbed quadratic.** With the recommended settings Guided ES reaches a "
            f"median f - f* of {_report.fmt_gap(rec['median'])} at {q['budget']:,} "
            f"evaluations ({verdict} the 0.001 target), "
            f"{q_bp['median'] / rec['median']:.1f}x below the best peer, {q_bp['label']} "
            f"({_report.fmt_gap(q_bp['median'])}); at the paper's settings "
            f"{_report.fmt_gap(paper['median'])}. Over the second half of the budget its "
            f"f - f* still falls by a factor {f:.1f} (median over seeds)"
            + (", so the budget, not a noise floor, is what stops it."
               if f >= 1.5 else ", so it is close to the floor set by the constant SGD "
               "step and the single pair's noisy estimate."))
        peers = sorted((r for r in q_rows if r["method"].source == "peer"
                        and np.isfinite(r["median"])), key=lambda r: r["median"])
        out.append(
            "  Median f - f* of each peer over that of the recommended setting: "
            + ", ".join(f"{r['label']} {r['median'] / rec['median']:.1f}x "
                        f"({r['seeds']} seed{'s' if r['seeds'] > 1 else ''})"
                        for r in peers[:5]) + ".")
        cma_row = _row(q_rows, "pycma CMA-ES")
        if cma_row is not None and cma_row is q_bp and q_bp["median"] / rec["median"] < 6:
            out.append(
                f"  The 6x target is missed because CMA-ES here does better than in the "
                f"measurement the issue quotes (0.010 there): its sigma0 = "
                f"{q['cma_sigma0']:g} was set from the size of x* (see part 1), an informed "
                f"choice that favours CMA-ES; against NGOpt, the best peer the issue "
                f"names, the ratio is "
                + (f"{_row(q_rows, 'nevergrad NGOpt')['median'] / rec['median']:.1f}x."
                   if _row(q_rows, "nevergrad NGOpt") is not None else "not measured."))
    lrec = _row(l_rows, "Guided ES, recommended")
    lib = [r for r in l_rows if r["method"].source == "library"]
    if lib and l_bp is not None:
        best_lib = min(lib, key=lambda r: r["median"])
        gd = [r for r in l_rows if r["label"].startswith("GD on surrogate")]
        gd_best = min(gd, key=lambda r: r["median"]) if gd else None
        ratio = l_bp["median"] / best_lib["median"]
        text = (f"- **Logistic regression.** The best Guided ES row ({best_lib['label']}, "
                f"{_report.fmt_gap(best_lib['median'])}) is "
                + (f"{ratio:.1f}x better than" if ratio >= 1 else
                   f"{1 / ratio:.2g}x worse than")
                + f" the best peer, {l_bp['label']} ({_report.fmt_gap(l_bp['median'])})")
        if gd_best is not None:
            text += (f"; descent on the surrogate stalls at "
                     f"{_report.fmt_gap(gd_best['median'])}")
        if lrec is not None:
            f = _second_half_factor(res, "logistic", lrec["label"], lg["budget"])
            text += (f". The Guided ES settings are the quadratic's, not retuned; with "
                     f"them the recommended row still falls by a factor {f:.1f} over the "
                     f"second half of the budget")
        if ratio < 1:
            text += (". At n = " f"{lg['n']} and a smooth, well-conditioned loss, the "
                     "derivative-free peers that adapt their step size (CMA-ES, NGOpt, "
                     "Powell's line searches) converge faster here than SGD with a "
                     "fixed learning rate set for another problem")
        out.append(text + ".")
    ov = res["overhead"]
    quad = next((r for r in ov if r["objective"].startswith("perturbed")), None)
    cheap = [r for r in ov if r["objective"] == "cheap sphere"]
    if cheap:
        extra = ", ".join(f"{(r['library'] - r['bare']) * 1e6:.0f} µs at k = {r['k']}, "
                          f"P = {r['P']}" for r in cheap)
        top = ", ".join(f"`{_short(p['function'])}` {p['share']:.0%}"
                        for p in res["profile"]["rows"][:4])
        text = (f"- **Overhead.** The library costs {extra} per iteration more than the "
                f"bare loop (cheap sphere, n = {cheap[0]['n']:,})")
        if quad is not None:
            text += (f"; on the paper's problem, whose evaluations dominate, the ratio is "
                     f"{quad['ratio']:.2f}x")
        text += f". The largest own-time entries in the profile: {top}"
        if quad is not None and quad["ratio"] <= 1.15 < max(r["ratio"] for r in ov):
            text += (". The 1.15x target is met where the objective dominates the "
                     "iteration, and missed where the bookkeeping does")
        elif quad is not None and quad["ratio"] > 1.15:
            text += ". The 1.15x target is missed even on the paper's problem"
        out.append(text + ".")
    big = max(res["scaling"], key=lambda r: r["n"])
    out.append(
        f"- **Scaling.** At n = {big['n']:,} (k = {big['k']}, P = {big['P']}) an iteration "
        f"costs {big['own'] * 1e3:.0f} ms of the library's own time, {big['ratio']:.1f}x "
        f"the {big['random'] * 1e3:.0f} ms of drawing its random numbers; the update of "
        f"the subspace basis for one new gradient (Gram matrix, O(n k)) costs "
        f"{big['basis'] * 1e3:.0f} ms, where a pivoted QR of the whole n x k buffer "
        f"(O(n k^2)) would cost {big['qr_basis'] * 1e3:.0f} ms, "
        f"{big['qr_basis'] / big['random']:.1f}x the draws. Peak memory stays at {big['peak_units']:.1f} n (k + P) doubles: "
        f"O(n (k + P)).")
    pl = res.get("profile_large")
    if pl is not None:
        out[-1] += (f" In the profile at n = {pl['n']:,} the largest own-time entries are "
                    + ", ".join(f"`{_short(p['function'])}` {p['share']:.0%}"
                                for p in pl["rows"][:5])
                    + ".")
    out.append("")
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="small smoke run (~1 minute); numbers mean nothing")
    parser.add_argument("--out", default=None,
                        help="output directory (default: docs/ for the full run, "
                             "benchmarks/out/ for --quick)")
    parser.add_argument("--jobs", type=int, default=2, help="parallel workers (default 2)")
    parser.add_argument("--report-only", action="store_true",
                        help="rewrite the report from the saved results of the last "
                             "run of the same mode (benchmarks/out/) without running")
    args = parser.parse_args(argv)
    out_dir = args.out or os.path.join(REPO, "benchmarks/out" if args.quick else "docs")
    start = time.perf_counter()

    def log(msg):
        print(f"[{time.perf_counter() - start:6.0f} s] {msg}", flush=True)

    if args.report_only:
        with open(LAST_RESULTS[args.quick], "rb") as fh:
            res = pickle.load(fh)
        if "profile" not in res:          # results of a run older than the profile
            with threadpool_limits(1):
                res["profile"] = _scaling.profile_library(n=1000, iterations=2000)
            res["profile"]["later"] = True
        if "profile_large" not in res:
            with threadpool_limits(1):
                res["profile_large"] = _scaling.profile_library(n=10**5, iterations=50,
                                                                k=10, P=10)
            res["profile_large"]["later"] = True
        res.setdefault("machine_load_start", float(
            res["machine"][2].split(":")[-1]))
        with open(LAST_RESULTS[args.quick], "wb") as fh:   # keep what was added
            pickle.dump(res, fh)
    else:
        res = collect(QUICK if args.quick else FULL, args.jobs, log)
        res["quick"] = args.quick
        res["cmd"] = ("python -m benchmarks" + (" --quick" if args.quick else "")
                      + (f" --out {args.out}" if args.out else "")
                      + (f" --jobs {args.jobs}" if args.jobs != 2 else ""))
        os.makedirs(os.path.dirname(LAST_RESULTS[args.quick]), exist_ok=True)
        with open(LAST_RESULTS[args.quick], "wb") as fh:
            pickle.dump(res, fh)
    path = write_report(res, out_dir)
    log(f"wrote {path}")
    return path


def write_report(res, out_dir):
    """Write ``benchmarks.md`` and its figures into `out_dir`; return its path."""
    fig_dir = os.path.join(out_dir, "benchmarks")
    os.makedirs(fig_dir, exist_ok=True)
    spec, quick, wall, machine = res["spec"], res["quick"], res["wall"], res["machine"]
    q, lg = spec["quadratic"], spec["logistic"]
    Q, L = res["quadratic"], res["logistic"]
    overhead, scaling = res["overhead"], res["scaling"]
    q_what = (
        f"Perturbed quadratic of the paper (section 4.1): n = {q['n']}, m = {q['m']}, "
        f"A ~ randn(m, n), b ~ randn(m), f(x) = |Ax - b|^2 / (2m), x0 = 0; surrogate "
        f"= grad + (bias + 1.5 noise) |grad| with a fixed random unit bias and fresh unit "
        f"noise at each call (`ges_minimize.problems.PerturbedQuadratic`, evaluated "
        f"through H = A^T A / m, checked equal). Seed s builds the problem and seeds the "
        f"method. Budget {q['budget']:,} evaluations, {_seeds(q)}. CMA-ES starts "
        f"with sigma0 = {q['cma_sigma0']:g}, about the per-coordinate size of x* "
        f"(|x*| / sqrt(n) = {Q['x_star_scale']:.2g} "
        f"for seed 0), following pycma's advice that the optimum lie within a few "
        f"sigma0 of x0.")
    l_what = (
        f"{L['describe']}; features standard normal, labels from a logistic model; x0 = 0 "
        f"(f - f* there about {L['gap0']:.2f}, cosine of the surrogate with the true "
        f"gradient there {L['cosine0']:.2f}, seed 0). The surrogate's zero is the "
        f"minimiser of the subsample's loss, so descent on it stalls at a fixed distance; "
        f"seed s draws the data and the subsample. Budget {lg['budget']:,} evaluations, "
        f"{_seeds(lg)}; same methods and settings as part 1 (no retuning), with "
        f"CMA-ES sigma0 = {lg['cma_sigma0']:g} and its own learning-rate sweep for descent.")
    q_sec, q_rows, q_bp = _family_section(
        "1. Perturbed quadratic (the paper's problem)", q_what, Q["methods"], Q["skipped"],
        Q["traces"], q, os.path.join(fig_dir, "quadratic.png"), "benchmarks/quadratic.png",
        with_reference=not quick)
    l_sec, l_rows, l_bp = _family_section(
        "2. Logistic regression with a subsampled float16 surrogate", l_what, L["methods"],
        L["skipped"], L["traces"], lg, os.path.join(fig_dir, "logistic.png"),
        "benchmarks/logistic.png", with_reference=False)

    lines = ["# Benchmarks: Guided ES against its peers", "",
             "*Generated by `benchmarks/run.py`; do not edit by hand.*"
             + (" **Quick mode: a smoke run on small problems; the numbers mean "
                "nothing.**" if quick else ""), "",
             f"Command: `{res['cmd']}` from the repository root; wall time "
             f"{wall / 60:.1f} min with {res['jobs']} workers{_cpu_note(res)}.", ""] + machine + [
             f"- load average at the end (1 min): {res['load_end']:.1f} (the machine "
             "was shared; timings are wall-clock)", "",
             "How progress is measured: for the evolution strategies of this library "
             "and for gradient descent on the surrogate, f - f* at the centre (the "
             "iterate the method would return), recorded at every iteration up to the "
             f"100th and then every {RECORD_EVERY}th; for the other peers, f - f* of the "
             "best point evaluated so far, the usual convention for black-box "
             "optimisers. An evaluation is one call of f; surrogate-gradient calls are "
             "free for Guided ES and L-BFGS-B, and count as evaluations for descent on "
             "the surrogate, which never calls f. Every peer is stopped at the budget "
             "exactly. 'Evals to t' is the median over seeds of the first recorded "
             "evaluation count with f - f* <= t ('not reached' when fewer than half "
             "the seeds reach it). Guided ES runs use the paper's sigma 0.1, alpha 0.5, "
             "beta 2, P = 1 and SGD.", ""]
    lines += _targets_section(res, quick, q_rows, q_bp, overhead, scaling, q)
    lines += _findings(res, q_rows, q_bp, l_rows, l_bp)
    lines += q_sec + l_sec + _overhead_section(overhead, scaling, res["profile"])
    lines += _overhead_section(None, None, res["profile_large"], profile_only=True)
    lines += ["## References", "",
              "- N. Maheswaranathan, L. Metz, G. Tucker, D. Choi, J. Sohl-Dickstein, "
              "\"Guided evolutionary strategies: augmenting random search with surrogate "
              "gradients\", ICML 2019, arXiv:1806.10230 (problem and Figure 1).",
              "- N. Hansen, pycma (`cma.CMAEvolutionStrategy`, options `seed`, "
              "`maxfevals`); J. Rapin, O. Teytaud, Nevergrad (`ng.optimizers.NGOpt`, "
              "`budget`); `scipy.optimize.minimize` (Powell and Nelder-Mead `maxfev`, "
              "L-BFGS-B `maxfun`).", ""]
    path = os.path.join(out_dir, "benchmarks.md")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines))
    return path


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
