"""Regenerate the gallery's figures: run each example in full, save its PNG.

Usage, from the repository root (several minutes on two cores)::

    python docs/_scripts/make_gallery_figures.py [name ...]

The figures go to ``docs/_static/gallery/<example>.png``, where the
``ges-example`` directive of ``docs/gallery.rst`` picks them up. The
documentation build never runs the examples.
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "docs" / "_static" / "gallery"

# How each example is told where to save its figure: a folder (``--out``)
# or a file (``--output``). Examples without a figure are left out.
OUTPUT_OPTION = {
    "perturbed_quadratic": "--out",
    "unrolled_optimization": "--out",
    "blackbox_attack": "--out",
    "optimize_f1": "--output",
    "nondifferentiable_network": "--output",
}


def run(name):
    script = REPO / "examples" / f"{name}.py"
    if not script.exists():
        print(f"{name}: no such example, skipped")
        return
    option = OUTPUT_OPTION[name]
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / f"{name}.png"
        where = tmp if option == "--out" else str(target)
        start = time.perf_counter()
        subprocess.run([sys.executable, str(script), option, where], check=True,
                       cwd=tmp, env=dict(os.environ, MPLBACKEND="Agg"))
        if not target.exists():
            raise FileNotFoundError(f"{name} wrote no {target.name}")
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / target.name).write_bytes(target.read_bytes())
        print(f"{name}: {OUT / target.name} ({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    for name in sys.argv[1:] or OUTPUT_OPTION:
        run(name)
