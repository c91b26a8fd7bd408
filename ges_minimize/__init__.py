"""Guided Evolutionary Strategies: optimisation with surrogate gradients.

Public API
----------
minimize_guided_es
    scipy-style minimiser; also a custom method of `scipy.optimize.minimize`.
GuidedES
    The ask/tell optimizer behind it.
PAPER_SETTINGS
    The paper's fixed-rate settings, ``minimize_guided_es(..., **PAPER_SETTINGS)``.
subspace_basis, sample_perturbations, antithetic_estimate
    The numerical core, as pure functions.
SGD, Momentum, Adam, make_step
    Step rules.
expected_squared_error, optimal_beta, optimal_hyperparameters
    The theory of the optimal alpha and beta.
problems
    Test problems with biased surrogate gradients.
GuidedESClassifier, GuidedESRegressor
    scikit-learn estimators for non-differentiable objectives.
GuidedESScoringSystem
    Integer-points risk scores (score cards).
recall_at_precision, precision_at_top
    Metrics of a ranking for the estimators' scorers.
"""

__version__ = "0.1.0"

from ._core import antithetic_estimate, sample_perturbations, subspace_basis
from ._guided_es import PAPER_SETTINGS, GuidedES
from ._minimize import Status, minimize_guided_es
from ._steps import SGD, Adam, Momentum, make_step
from .theory import expected_squared_error, optimal_beta, optimal_hyperparameters
from . import problems

_LAZY = {name: "estimators" for name in (
    "GuidedESClassifier", "GuidedESRegressor", "GuidedESScoringSystem",
    "recall_at_precision", "precision_at_top")}


def __getattr__(name):
    # The estimators import scikit-learn, which takes seconds: load them on
    # first use, so that `import ges_minimize` (and every joblib or dask
    # worker unpickling a task) stays light.
    if name in _LAZY:
        import importlib
        module = importlib.import_module(f".{_LAZY[name]}", __name__)
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))

__all__ = [
    "minimize_guided_es",
    "GuidedES",
    "PAPER_SETTINGS",
    "Status",
    "subspace_basis",
    "sample_perturbations",
    "antithetic_estimate",
    "SGD",
    "Momentum",
    "Adam",
    "make_step",
    "expected_squared_error",
    "optimal_beta",
    "optimal_hyperparameters",
    "problems",
    "GuidedESClassifier",
    "GuidedESRegressor",
    "GuidedESScoringSystem",
    "recall_at_precision",
    "precision_at_top",
]
