"""Smoke test of the benchmark runner: ``python -m benchmarks --quick``.

Runs the quick mode in a subprocess into a temporary directory and checks
that the report and its figures are produced and that every table has its
rows. The numbers themselves are not checked (quick mode is too small for
them to mean anything).
"""

import os
import re
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

pytest.importorskip("cma")
pytest.importorskip("nevergrad")
pytest.importorskip("matplotlib")

METHOD_ROWS = [
    "Guided ES, paper settings (k=1, lr=0.2)",
    "Guided ES, recommended (k=10, lr=0.6, alpha=0.75)",
    "Vanilla ES (alpha=1, lr=0.2)",
    "GD on surrogate, lr=",
    "scipy Powell",
    "scipy Nelder-Mead (adaptive)",
    "scipy L-BFGS-B (jac=surrogate)",
    "pycma CMA-ES (sigma0=",
    "nevergrad NGOpt",
]
AUTO = "Guided ES, alpha='auto' (k=10, lr=0.6)"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--out", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    path = out / "benchmarks.md"
    assert path.is_file()
    return out, path.read_text(encoding="utf-8")


def _section(text, title):
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 1)
    return text[start:end if end >= 0 else None]


def _table_rows(section):
    return [line for line in section.splitlines()
            if line.startswith("| ") and not line.startswith("| method")
            and not set(line) <= set("|-")]


def test_figures_are_pngs(report):
    out, text = report
    for name in ("quadratic.png", "logistic.png"):
        path = out / "benchmarks" / name
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"](benchmarks/{name})" in text


def test_header_names_date_machine_and_command(report):
    _, text = report
    assert re.search(r"- date: \d{4}-\d\d-\d\d", text)
    assert "- machine: " in text
    assert "`python -m benchmarks --quick --out " in text
    assert "Quick mode" in text


@pytest.mark.parametrize("title", ["1. Perturbed quadratic", "2. Logistic regression"])
def test_quality_tables_have_a_row_per_method(report, title):
    _, text = report
    section = _section(text, title)
    rows = _table_rows(section.split("Best peer")[0])
    for label in METHOD_ROWS:
        assert any(row.startswith(f"| {label}") for row in rows), label
    # alpha='auto': a row if the library accepts it, a note saying why not otherwise
    assert any(row.startswith(f"| {AUTO}") for row in rows) or f"- {AUTO}: not run" in section
    assert "Best peer by median" in section
    assert any(row.startswith("| Guided ES, recommended") for row in
               _table_rows(section.split("Best peer")[1]))


def test_targets_and_scaling_tables(report):
    _, text = report
    targets = _table_rows(_section(text, "Targets"))
    assert len(targets) >= 5
    assert any("overhead" in row for row in targets)
    assert any("memory" in row for row in targets)
    scaling = _section(text, "3. Overhead and scaling")
    rows = _table_rows(scaling)
    assert any("| 1,000 | 10 | 10 |" in row for row in rows)             # overhead
    assert any(row.startswith("| 10,000 |") for row in rows)            # scaling


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
    proc = subprocess.run([sys.executable, os.path.join("benchmarks", "estimators.py"),
                           "--quick"],
                          cwd=REPO, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    out = proc.stdout
    for title in ("Classification", "Regression", "Initialisation", "Sign network"):
        assert f"### {title}" in out
    # every table row has the columns of its header (no stray '|' in a label)
    for table in out.split("### ")[1:]:
        rows = [line for line in table.splitlines() if line.startswith("|")]
        assert len({row.count("|") for row in rows}) == 1, table
    # a baseline row: a signed paired difference and its standard error
    assert re.search(r"^\| breast cancer \| cost \(5 FN \+ FP\) \| LR \+ TunedThreshold "
                     r"\| (\*\*)?[0-9.]+ ± [0-9.]+(\*\*)? \| [+-][0-9.]+ ± [0-9.]+ \|", out, re.M)
    assert re.search(r"^\| diabetes \| MAE \| GuidedESRegressor \| .* \| — \|", out, re.M)
