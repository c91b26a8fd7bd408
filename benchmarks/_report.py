"""Summaries, tables, figures and the markdown report."""

import datetime
import os
import platform
import sys

import numpy as np

__all__ = ["summarise", "best_peer", "quality_table", "ratio_table",
           "convergence_figure", "machine_info", "run_stamp", "fmt_gap", "fmt_evals"]


def fmt_gap(x):
    if not np.isfinite(x):
        return "diverged" if x == np.inf else "n/a"
    return f"{x:.2g}" if x < 1e-3 else f"{x:.3g}"


def fmt_evals(x):
    return "not reached" if not np.isfinite(x) else f"{int(round(x)):,}"


def fmt_ratio(x):
    """A ratio > 1 means the method is better than the best peer."""
    if round(x, 1) == 1.0:
        return "1.0x (even)"
    return f"{x:.1f}x" if x >= 1 else f"{x:.2g}x (worse)"


def summarise(methods, traces, budget, targets):
    """One dict per method: final gaps, evaluations to reach each target."""
    rows = []
    for m in methods:
        ts = traces[m.label]
        finals = np.array([t.at(budget) for t in ts])
        row = dict(method=m, label=m.label, seeds=len(ts), finals=finals,
                   median=float(np.median(finals)), low=float(finals.min()),
                   high=float(finals.max()),
                   seconds=float(np.median([t.seconds for t in ts])),
                   notes=sorted({t.note for t in ts}))
        for target in targets:
            hits = np.array([t.first_reaching(target) for t in ts], dtype=float)
            row[target] = (float(np.median(hits)), int(np.isfinite(hits).sum()))
        rows.append(row)
    return rows


def best_peer(rows, key=lambda r: r["median"]):
    peers = [r for r in rows if r["method"].source == "peer"]
    return min(peers, key=key) if peers else None


def quality_table(rows, budget, targets):
    head = (f"| method | measured | seeds | median f - f* at {budget:,} | range | "
            + " | ".join(f"evals to {t:g} (seeds reaching)" for t in targets)
            + " | s / run |")
    lines = [head, "|" + "---|" * (6 + len(targets))]
    for r in rows:
        reach = " | ".join(f"{fmt_evals(r[t][0])} ({r[t][1]}/{r['seeds']})"
                           for t in targets)
        lines.append(
            f"| {r['label']} | {r['method'].measures} | {r['seeds']} | "
            f"**{fmt_gap(r['median'])}** | {fmt_gap(r['low'])} - {fmt_gap(r['high'])} | "
            f"{reach} | {r['seconds']:.0f} |")
    return "\n".join(lines)


def ratio_table(rows, targets):
    """Library rows against the best peer: gap ratio and evaluation ratios."""
    bp = best_peer(rows)
    if bp is None:
        return "", None
    lines = [f"Best peer by median f - f* at the budget: **{bp['label']}** "
             f"({fmt_gap(bp['median'])}).", "",
             "| method | best peer's median gap / method's | "
             + " | ".join(f"best peer's evals to {t:g} / method's" for t in targets)
             + " |",
             "|" + "---|" * (2 + len(targets))]
    for r in rows:
        if r["method"].source != "library":
            continue
        cells = []
        for t in targets:
            peer = best_peer(rows, key=lambda q, t=t: q[t][0])
            mine, theirs = r[t][0], peer[t][0]
            if not np.isfinite(mine):
                cells.append("method does not reach it")
            elif not np.isfinite(theirs):
                cells.append("no peer reaches it within the budget")
            else:
                cells.append(f"{fmt_ratio(theirs / mine)} (vs {peer['label']})")
        ratio = bp["median"] / r["median"] if r["median"] > 0 else np.inf
        lines.append(f"| {r['label']} | **{fmt_ratio(ratio)}** | " + " | ".join(cells) + " |")
    return "\n".join(lines), bp


def convergence_figure(methods, traces, budget, path, title, hide=()):
    """Median f - f* against evaluations (log scale), min-max band over seeds."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = np.unique(np.linspace(0, budget, 401).astype(int))
    fig, ax = plt.subplots(figsize=(11.5, 5.4))
    for i, m in enumerate(methods):
        if m.label in hide:
            continue
        curves = np.array([t.on_grid(grid) for t in traces[m.label]])
        with np.errstate(invalid="ignore"):
            curves = np.where(np.isfinite(curves), curves, np.nan)
            mid = np.nanmedian(curves, axis=0) if curves.shape[0] > 1 else curves[0]
        style = "-" if m.source == "library" else "--"
        line, = ax.plot(grid, mid, style, lw=2 if m.source == "library" else 1.4,
                        label=f"{m.label} ({curves.shape[0]} seed"
                              f"{'s' if curves.shape[0] > 1 else ''})")
        if curves.shape[0] > 1:
            ax.fill_between(grid, np.nanmin(curves, axis=0), np.nanmax(curves, axis=0),
                            color=line.get_color(), alpha=0.15, lw=0)
    ax.set_yscale("log")
    ax.set_xlabel("function evaluations")
    ax.set_ylabel("f - f*")
    ax.text(0.01, 0.01, "solid: Guided ES; dashed: peers (vanilla ES is this library "
            "at alpha = 1)\ncentre for ES and descent, best so far for the others; "
            "line median, band min-max over seeds",
            transform=ax.transAxes, fontsize=7, va="bottom")
    ax.set_title(title)
    ax.set_xlim(0, budget)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def source_digest():
    """Short SHA-256 of the library's source files (the run's code state)."""
    import hashlib

    import ges_minimize
    root = os.path.dirname(ges_minimize.__file__)
    h = hashlib.sha256()
    for name in sorted(os.listdir(root)):
        if name.endswith(".py"):
            with open(os.path.join(root, name), "rb") as fh:
                h.update(name.encode() + b"\0" + fh.read())
    return h.hexdigest()[:12]


def run_stamp():
    """When a family ran, and on which library sources: ``'date, sha256 ...'``."""
    return (f"{datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}, "
            f"sources {source_digest()}")


def machine_info():
    """Lines describing the machine and the software versions."""
    import cma
    import nevergrad
    import numpy
    import scipy

    import ges_minimize
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count()
    return [
        f"- date: {datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}",
        f"- machine: {_cpu_model()}, {cores} cores available, {platform.platform()}",
        f"- load average at start (1 min): {os.getloadavg()[0]:.1f}",
        f"- Python {sys.version.split()[0]}; ges_minimize {ges_minimize.__version__}, "
        f"numpy {numpy.__version__}, scipy {scipy.__version__}, cma {cma.__version__}, "
        f"nevergrad {nevergrad.__version__}; library sources sha256 {source_digest()}",
    ]
