"""Sphinx configuration of the ges_minimize documentation.

Build with ``python -m sphinx -W -b html docs docs/_build/html`` from the
repository root (``pip install ".[docs]"`` first).
"""

import os
import sys
from pathlib import Path

import ges_minimize

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
sys.path.insert(0, str(DOCS / "_scripts"))       # the local extension

os.environ.setdefault("MPLBACKEND", "Agg")       # the plot directive, headless

# -- project ------------------------------------------------------------------
project = "ges_minimize"
author = "the ges_minimize developers"
copyright = "the ges_minimize developers, BSD-3-Clause"
version = release = ges_minimize.__version__

# -- extensions ---------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "matplotlib.sphinxext.plot_directive",
    "ges_docs",
]
try:                                             # the benchmark report is Markdown
    import myst_parser  # noqa: F401
except ImportError:                              # pragma: no cover
    HAVE_MYST = False
else:
    HAVE_MYST = True
    extensions.append("myst_parser")
    myst_enable_extensions = ["dollarmath"]
    myst_heading_anchors = 3

source_suffix = {".rst": "restructuredtext"}
if HAVE_MYST:
    source_suffix[".md"] = "markdown"

root_doc = "index"
exclude_patterns = ["_build", "_scripts"]
default_role = "py:obj"       # `name` in prose links to the API, as in docstrings

# -- autodoc / autosummary / numpydoc -----------------------------------------
# The reference is one page (api.rst) of autofunction/autoclass entries;
# autosummary only draws the tables at its top and writes no stub files, so
# the build leaves nothing behind in the source tree.
autosummary_generate = False
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"
autodoc_preserve_defaults = True
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks = set()

# Cross-references to the scientific Python stack. Off by default so that a
# build needs no network; GES_DOCS_INTERSPHINX=1 turns it on.
intersphinx_mapping = {}
if os.environ.get("GES_DOCS_INTERSPHINX"):
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "scipy": ("https://docs.scipy.org/doc/scipy", None),
        "sklearn": ("https://scikit-learn.org/stable", None),
        "joblib": ("https://joblib.readthedocs.io/en/stable", None),
    }

# -- doctests ---------------------------------------------------------------------
# The ``>>>`` examples of the pages are run by tests/test_docs.py (Python's
# doctest on each .rst file, each page self-contained), those of the
# docstrings by ``pytest --doctest-modules``; no Sphinx doctest builder.

# -- matplotlib plot directive --------------------------------------------------
plot_basedir = str(DOCS / "_scripts")
plot_formats = [("png", 110)]
plot_html_show_formats = False
plot_html_show_source_link = False
plot_include_source = False
plot_rcparams = {"figure.autolayout": False}

# -- HTML -----------------------------------------------------------------------
html_theme = "alabaster"
html_static_path = ["_static"]          # holds ges.css, so it always exists
html_css_files = ["ges.css"]
html_title = f"ges_minimize {release}"
html_theme_options = {
    "description": "Guided Evolutionary Strategies: optimisation with "
                   "surrogate gradients",
    "fixed_sidebar": True,
    "page_width": "1100px",
    "sidebar_width": "230px",
}
html_sidebars = {"**": ["about.html", "navigation.html", "searchbox.html"]}
html_show_sourcelink = False

# -- the local extension's settings ---------------------------------------------
ges_repo_root = str(REPO)
