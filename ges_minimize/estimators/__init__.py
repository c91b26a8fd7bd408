"""scikit-learn estimators that maximise any scorer with Guided ES.

`GuidedESClassifier` and `GuidedESRegressor` fit a linear model or a network
with sign/step activations so as to maximise a scikit-learn scorer (accuracy,
F1, a custom cost...) on the training data. The scorer is the objective that
Guided ES evaluates; the gradient of a smooth proxy loss (log loss, hinge,
squared error...) is the surrogate gradient that guides its search.

One concern per module:

- `_classes`: the public estimators;
- `_model`: the model, its standardised inputs and its surrogate gradient;
- `_objective` and `_metrics`: the objective, scoring all candidates of an
  iteration at once;
- `_cv`: the cross-validated start (intercept shift, or class offsets) and
  length (number of iterations);
- `_climb`: the Guided ES iterations and the parameters a run returns;
- `_decision`: the decision layer on top of the probability model;
- `_ranking`: metrics of a ranking (recall at a precision, precision at
  the top), public, and their computation for many candidates at once;
- `_scoring_system`: `GuidedESScoringSystem`, integer-points risk scores.
"""

from ._classes import GuidedESClassifier, GuidedESRegressor
from ._ranking import precision_at_top, recall_at_precision
from ._scoring_system import GuidedESScoringSystem

__all__ = ["GuidedESClassifier", "GuidedESRegressor", "GuidedESScoringSystem",
           "precision_at_top", "recall_at_precision"]
