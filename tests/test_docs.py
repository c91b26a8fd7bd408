"""The documentation builds without warnings and its examples run.

- the Sphinx site builds with ``-W`` (every warning an error) into a
  temporary folder, in a subprocess, as CI and a contributor would build it;
- the ``>>>`` examples of every page under ``docs/`` run as doctests (the
  docstrings' own examples are run by ``pytest --doctest-modules``);
- the API reference and the gallery cover every public name and every
  example, so that a new function or script cannot go undocumented.

Skipped when Sphinx is not installed (``pip install ".[docs]"``).
"""

import doctest
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import ges_minimize
from ges_minimize import problems

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.rst") if "_build" not in p.parts)


def test_html_build_has_no_warnings(tmp_path):
    pytest.importorskip("sphinx")
    pytest.importorskip("numpydoc")
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONHASHSEED="0")
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-E", "-q",
           "-b", "html", "-d", str(tmp_path / "doctrees"), str(DOCS),
           str(tmp_path / "html")]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, (
        f"sphinx-build failed (exit {proc.returncode}):\n{proc.stderr[-6000:]}")
    html = tmp_path / "html"
    for page in ["index", "api", "gallery", "user_guide/method",
                 "user_guide/hyperparameters"]:
        assert (html / f"{page}.html").is_file(), page
    # The phase diagram is drawn at build time from the theory module.
    assert list((html / "_images").glob("alpha_phase_diagram*.png"))
    # Every public function and class has an entry in the reference.
    api = (html / "api.html").read_text(encoding="utf-8")
    for name in _public_names():
        assert f'id="{name}"' in api, f"{name} has no entry in api.html"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_page_doctests(page):
    flags = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
    result = doctest.testfile(str(page), module_relative=False,
                              optionflags=flags, verbose=False,
                              encoding="utf-8")
    assert result.failed == 0, f"{result.failed} doctest failures in {page}"


def _public_names():
    names = [f"ges_minimize.{name}" for name in ges_minimize.__all__
             if name != "problems"]
    names += [f"ges_minimize.problems.{name}" for name in problems.__all__]
    return names


def test_api_page_lists_every_public_name():
    text = (DOCS / "api.rst").read_text(encoding="utf-8")
    module = None
    qualified = set()
    for line in text.splitlines():
        current = re.match(r"\.\. (?:currentmodule|module):: (\S+)", line)
        if current:
            module = current.group(1)
        entry = re.match(r"\.\. (?:auto(?:function|class|data)|data):: (\S+)", line)
        if entry:
            name = entry.group(1)
            qualified.add(name if name.startswith("ges_minimize.")
                          else f"{module}.{name}")
    missing = [name for name in _public_names() if name not in qualified]
    assert not missing, f"not in docs/api.rst: {missing}"


def test_gallery_lists_every_example():
    text = (DOCS / "gallery.rst").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\.\. ges-example:: (\S+)", text, flags=re.M))
    present = {p.name for p in (REPO / "examples").glob("*.py")
               if not p.name.startswith("_")}
    missing = sorted(present - listed)
    assert not missing, f"examples not in docs/gallery.rst: {missing}"
