"""The overhead and scaling part of the report (``python -m benchmarks --only overhead``).

Measurements are made by `benchmarks._scaling`; this module writes their
tables.
"""

__all__ = ["overhead_section"]


def overhead_section(overhead, scaling, profile, profile_only=False):
    if profile_only:
        return _profile_table(profile)
    out = ["## Overhead and scaling", "",
           "Everything on one BLAS thread, timings the minimum over interleaved "
           "repeats; settings sigma 0.1, alpha 0.5, beta 2, SGD lr 0.2. The k = 10, "
           "P = 10 measurements use the cheap objective `f(x) = |x - 1|^2 / 2` with "
           "surrogate `x - 0.5`, O(n) each, so that the method's own work is what is "
           "timed.", "",
           "**Overhead.** `minimize_guided_es` against a bare numpy loop of the same "
           "iteration. The k = 1, P = 1 rows are the measurement of "
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
           "than 10,000 to keep the run short.", "",
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


