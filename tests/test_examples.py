"""Run each example in its --quick mode and check the numbers it prints.

Each example runs in a subprocess with the current interpreter, in a
temporary directory, with the non-interactive matplotlib backend and
single-threaded BLAS (much faster on a shared machine). The assertions are
the claims the examples' docstrings make, with margins wide enough that they
do not depend on the last bit of floating point.
"""
import math
import os
import pathlib
import re
import subprocess
import sys

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"

pytest.importorskip("matplotlib")


def run_example(name, tmp_path):
    """Run ``examples/<name>.py --quick --out tmp_path``; return its stdout."""
    env = dict(os.environ, MPLBACKEND="Agg", OPENBLAS_NUM_THREADS="1",
               OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py"), "--quick",
         "--out", str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, (
        f"{name}.py --quick failed:\n{proc.stdout}\n{proc.stderr}")
    figure = tmp_path / f"{name}.png"
    assert figure.is_file() and figure.stat().st_size > 10_000, (
        f"{name}.py did not save {figure}")
    return proc.stdout


def table_row(output, label):
    """The numbers of the table row that starts with `label` ('-' is nan)."""
    match = re.search(rf"^{re.escape(label)}\s+(.*)$", output, re.MULTILINE)
    assert match, f"no row {label!r} in:\n{output}"
    return [math.nan if token == "-" else float(token)
            for token in match.group(1).split()]


def test_perturbed_quadratic(tmp_path):
    out = run_example("perturbed_quadratic", tmp_path)
    # columns: lr, f evals, surrogate calls, final f - f*, paper, mean cos,
    # surrogate cos at the end, time
    gd, es, ges = (table_row(out, m)
                   for m in ("surrogate GD", "vanilla ES", "Guided ES"))
    assert gd[1:3] == [0, 2000] and es[1:3] == [4000, 0]
    assert ges[1:3] == [4000, 2000]
    gap = {"gd": gd[3], "es": es[3], "ges": ges[3]}
    assert all(0 < value < 0.26 for value in gap.values()), gap
    # Guided ES ends well below both baselines (about 0.05, 0.003, 0.0002).
    assert gap["ges"] < gap["gd"] / 10, gap
    assert gap["ges"] < gap["es"] / 3, gap
    # Descent on the surrogate stalls where the surrogate has lost its
    # correlation with the gradient; where vanilla ES ends it keeps it.
    assert gd[6] < 0.2 < 0.4 < es[6], (gd, es)


def test_unrolled_optimization(tmp_path):
    out = run_example("unrolled_optimization", tmp_path)
    start = re.search(r"f\(theta0\) = (-?[\d.]+); cosine\(truncated, exact "
                      r"meta-gradient\) at theta0 = (-?[\d.]+)", out)
    assert start, out
    f0, cos0 = map(float, start.groups())
    assert cos0 > 0.9           # the surrogate starts out excellent
    # columns: lr, f @ 80, f @ 400, f @ 800, cos end, time
    tgd, es, ges = (table_row(out, m)
                    for m in ("truncated GD", "vanilla ES", "Guided ES"))
    for row in (tgd, es, ges):
        assert all(math.isfinite(v) and v < f0 for v in row[1:4]), row
    # After 800 unrolls Guided ES is ahead of both (about -4.8 against -4.2
    # for truncated descent and -3.7 for vanilla ES).
    assert ges[3] < tgd[3] - 0.2, (ges, tgd)
    assert ges[3] < es[3] - 0.5, (ges, es)
    assert "exact GD" not in out          # --quick leaves out the oracle


def test_blackbox_attack(tmp_path):
    out = run_example("blackbox_attack", tmp_path)
    assert "12 correctly classified test images" in out
    # columns: success, median and mean queries on all images, the same on
    # the images where PGD transfer fails, time
    methods = ("FGSM transfer", "PGD transfer", "vanilla ES", "Guided ES",
               "vanilla ES from PGD", "Guided ES from PGD")
    rows = {m: table_row(out, m) for m in methods}
    for method, row in rows.items():
        assert 0.0 < row[0] < 1.0, (method, row)
        assert 0.0 <= row[3] <= 1.0, (method, row)
    for method in ("FGSM transfer", "PGD transfer"):
        assert rows[method][1] == 1.0               # one query each
    assert rows["PGD transfer"][3] == 0.0           # by definition
    # Every ES attack fools more images than transfer alone within the
    # budget of 200 queries.
    for method in methods[2:]:
        assert rows[method][0] > rows["PGD transfer"][0], method
        assert 1 <= rows[method][1] <= 200, method
    # From x0, Guided ES needs far fewer queries (median) than vanilla ES
    # (about 16 against 68).
    assert rows["Guided ES"][1] < rows["vanilla ES"][1] / 2, rows
