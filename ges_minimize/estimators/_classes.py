"""The public estimators, `GuidedESClassifier` and `GuidedESRegressor`.

What they do, in the order of a fit: standardise the data and fit the start
(`_model`), check the scorer and choose how to compute it fast
(`_objective`), choose the decision rule of several classes (the Bayes
rule of a scorer's costs, `_decision`), tune the start's intercept (or
class offsets) and the number of iterations on folds (`_cv`), climb
(`_climb`), and keep a probability model apart from the decisions
(`_decision`).
"""

import difflib
import numbers

import numpy as np
import scipy.sparse as sp
from sklearn import get_config
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, _fit_context
from sklearn.metrics import check_scoring, get_scorer_names
from sklearn.utils import check_array, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.metadata_routing import MetadataRouter, MethodMapping, process_routing
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _cv, _decision, _metrics, _model
from ._climb import Monitor, climb, make_optimizer, one_blas_thread, stratified_sample
from ._objective import Data, NegativeScore, evaluator

__all__ = ["GuidedESClassifier", "GuidedESRegressor"]

#: Fitted attributes that a new fit replaces or removes.
_FITTED = ("coefs_", "intercepts_", "coef_", "intercept_", "objective_curve_",
           "validation_curve_", "proba_coefs_", "proba_intercepts_",
           "intercept_shift_", "class_offsets_", "cv_checkpoints_",
           "cv_scores_", "decision_rule_", "cost_matrix_", "bayes_shift_",
           "surrogate_loss_")


class _BaseGuidedES(BaseEstimator):
    """Fitting and prediction shared by the classifier and the regressor."""

    _parameter_constraints = {
        "scoring": [str, callable, None],
        "hidden_layer_sizes": ["array-like"],
        "activation": [StrOptions(set(_model.ACTIVATIONS))],
        "l2_regularization": [Interval(numbers.Real, 0, None, closed="left"),
                              StrOptions({"auto"})],
        "selection": [StrOptions({"auto", "average", "best", "last"})],
        "cv": ["cv_object"],
        "init": [StrOptions({"auto", "surrogate", "random"})],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_pairs": [Interval(numbers.Integral, 1, None, closed="left")],
        "subspace_dim": [Interval(numbers.Integral, 1, None, closed="left")],
        "sigma": [Interval(numbers.Real, 0, None, closed="neither")],
        "alpha": [Interval(numbers.Real, 0, 1, closed="both")],
        "beta": [Interval(numbers.Real, 0, None, closed="neither")],
        "step": [StrOptions({"sgd", "momentum", "adam", "auto"})],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "early_stopping": ["boolean", StrOptions({"cv"})],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "n_jobs": [numbers.Integral, None],
        "verbose": ["verbose"],
    }

    # -- fitting -----------------------------------------------------------------
    def _fit(self, X, y, sample_weight, fit_params, sample_costs=None):
        # an error leaves the estimator as it was
        before = dict(self.__dict__)
        try:
            with one_blas_thread():
                return self._fit_single_thread(X, y, sample_weight, fit_params,
                                               sample_costs)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise

    def _fit_single_thread(self, X, y, sample_weight, fit_params, sample_costs):
        first_fit = not (self.warm_start and hasattr(self, "coefs_"))
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32],
                             accept_sparse="csr",
                             y_numeric=not self._is_classifier(),
                             ensure_min_samples=2, reset=first_fit)
        X = X.astype(np.float64) if sp.issparse(X) else np.asarray(X, dtype=np.float64)
        if self.step == "auto" and self.learning_rate is not None:
            raise ValueError(
                f"learning_rate={self.learning_rate!r} was given with "
                "step='auto', which adapts the step length itself; leave "
                "learning_rate=None or choose 'adam', 'sgd' or 'momentum'")
        scorer = self._scorer()
        metadata, per_sample = self._scorer_metadata(fit_params, X.shape[0])
        sample_weight = (_check_sample_weight(sample_weight, X.shape[0])
                         * self._class_weights(y))
        Y = self._encode_target(y, first_fit)
        if sample_costs is not None:
            sample_costs = self._check_fit_costs(sample_costs, X.shape[0],
                                                 fit_params)
        if self._is_classifier() and np.unique(y[sample_weight > 0]).size < 2:
            raise ValueError(
                "GuidedESClassifier needs samples of at least 2 classes with a "
                "positive sample_weight, but only one class has any")
        kept = None
        if not np.all(sample_weight > 0):
            # rows of weight zero count in no loss and no score; dropped, they
            # cannot leave a fold with no weight to score (a NaN score), and
            # the fit is the fit without them, as weights zero promise
            keep = kept = np.flatnonzero(sample_weight > 0)
            X, y, Y, sample_weight = X[keep], y[keep], Y[keep], sample_weight[keep]
            metadata = {key: value[keep] if key in per_sample else value
                        for key, value in metadata.items()}
            sample_costs = None if sample_costs is None else sample_costs[keep]
        hidden = _check_hidden_layer_sizes(self.hidden_layer_sizes)
        rng = np.random.default_rng(
            check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

        train, valid = self._split(y, rng)
        x_mean, x_scale = _model.standardisation(X[train], sample_weight[train])
        x_scale = _model.indicator_scale(X[train], x_scale)
        if self._is_classifier():
            y_mean, y_scale = 0.0, 1.0
        else:
            y_mean, y_scale = _model.standardisation(Y[train], sample_weight[train])
            y_mean, y_scale = float(y_mean[0]), float(y_scale[0])
        scaling = (x_mean, x_scale, y_mean, y_scale)
        codes = (np.searchsorted(self.classes_, y) if self._is_classifier()
                 else None)
        data = Data(X, _model.standardise(X, x_mean, x_scale), y, codes,
                    (Y - y_mean) / y_scale, sample_weight, metadata, per_sample,
                    sample_costs)
        fit_data = data.take(train)
        shapes = _model.layer_shapes(X.shape[1], hidden, Y.shape[1])
        loss = self._surrogate_loss(scorer)
        surrogate = self._surrogate(shapes, fit_data, loss)
        fitted = {}
        if not self._is_classifier():
            fitted["surrogate_loss_"] = loss

        theta0, origin = self._initial_parameters(first_fit, shapes, scaling,
                                                  fit_data, surrogate, rng)
        proba_theta = theta0 if _decision.calibrated_start(self, first_fit) else None
        objective = NegativeScore(self._template(), scorer, self.scoring,
                                  shapes, scaling)
        objective.sample_bayes = sample_costs is not None and self.decision == "auto"
        objective.prepare(theta0, fit_data)
        calibrated = proba_theta is not None or (
            not first_fit and self.__dict__.get("decision_rule_") == "bayes")
        costs = self._bayes_costs(objective, theta0, fit_data, calibrated)
        bayes_shift = (self._bayes_shift(objective, fit_data, calibrated)
                       if self._is_classifier() else None)
        if bayes_shift is not None:
            theta0 = _decision.shift_output(theta0, bayes_shift)
            fitted["bayes_shift_"] = bayes_shift
        full_batch = self._full_batch(len(train))
        select = full_batch or valid is not None
        valid_data = None if valid is None else data.take(valid)
        folds = None
        if self.cv is not None and origin is not None and valid is None:
            theta0, offset, folds = _cv.cross_validate_start(
                self, theta0, origin, shapes, fit_data, surrogate, objective,
                base_shift=0.0 if bayes_shift is None else bayes_shift, rows=kept)
            if offset is not None and np.ndim(offset) == 0:
                fitted["intercept_shift_"] = offset
            elif offset is not None:
                fitted["class_offsets_"] = offset
        if objective.sample_bayes:
            fitted["decision_rule_"] = "sample_bayes"
        elif self._is_classifier():
            fitted["decision_rule_"] = "argmax" if costs is None else "bayes"
            if costs is not None:
                fitted["cost_matrix_"] = costs
        selection = self.selection
        if selection == "auto":
            selection = "best" if valid is not None else "average"
        # one evaluator (one worker pool, for scorers computed by workers)
        # for the whole fit; every batch brings its rows as its argument
        with evaluator(objective, fit_data, self.n_jobs) as evaluate:
            n_iter = self.max_iter
            if folds is not None and self.early_stopping == "cv":
                n_iter, checkpoints, scores = _cv.cross_validate_n_iter(
                    self, folds, fit_data, objective, surrogate, selection,
                    evaluate, rng)
                fitted["cv_checkpoints_"], fitted["cv_scores_"] = checkpoints, scores
                if self.verbose:
                    print(f"[{type(self).__name__}] early_stopping='cv' chose "
                          f"{n_iter} iterations of {checkpoints.tolist()}",
                          flush=True)
            es = make_optimizer(self, theta0, rng)
            monitor = Monitor(self.n_iter_no_change, self.tol, select, selection)
            curve, valid_curve = climb(
                self, es, objective, surrogate, fit_data, valid_data, full_batch,
                monitor, rng, evaluate, n_iter)
        previous_proba = None
        if not first_fit and "proba_coefs_" in self.__dict__:
            previous_proba = list(zip(self.proba_coefs_, self.proba_intercepts_))
        for name in _FITTED:
            self.__dict__.pop(name, None)
        self.__dict__.update(fitted)
        self._set_layers(_model.fold_scaling(
            _model.unpack(monitor.selected(), shapes), *scaling))
        if self._is_classifier():
            self._set_probability_model(proba_theta, objective, shapes, scaling,
                                        previous_proba)
        self.n_iter_ = es.nit
        self.objective_curve_ = np.asarray(curve)
        # the first centre was scored on a minibatch: score it on all rows
        self.init_score_ = (curve[0] if full_batch
                            else -objective.one(theta0, fit_data))
        self.best_iteration_ = monitor.selected_iteration()
        if valid is not None:
            self.validation_curve_ = np.asarray(valid_curve)
        return self

    def _scorer_metadata(self, fit_params, n_samples):
        """The metadata routed to the scorer, and the names of those with one
        entry per sample (taken with the rows wherever the data are)."""
        if not fit_params:
            return {}, ()
        if not get_config().get("enable_metadata_routing", False):
            raise ValueError(
                f"{type(self).__name__}.fit got the keyword arguments "
                f"{sorted(fit_params)}, metadata for the scorer; passing them "
                "needs scikit-learn's metadata routing: call sklearn.set_config("
                "enable_metadata_routing=True) and request them from the scorer, "
                "e.g. scorer.set_score_request(amount=True)")
        routed = process_routing(self, "fit", **fit_params)
        metadata = dict(routed.scorer.score)
        per_sample = []
        for name, value in metadata.items():
            if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__len__"):
                continue
            if len(value) == n_samples:
                metadata[name] = np.asarray(value)
                per_sample.append(name)
        return metadata, tuple(per_sample)

    def get_metadata_routing(self):
        """How `fit` routes metadata: to the scorer's ``score``.

        With ``sklearn.set_config(enable_metadata_routing=True)``, keyword
        arguments of `fit` that the scorer requested (with its
        ``set_score_request``) are passed to it wherever it scores rows,
        subset with the rows when they hold one entry per sample.
        `sample_weight` is not routed: it always reaches the scorer and the
        surrogate loss.

        Returns
        -------
        routing : sklearn.utils.metadata_routing.MetadataRouter
            The routing of this estimator.
        """
        return MetadataRouter(owner=self).add_self_request(self).add(
            scorer=self._scorer(),
            method_mapping=MethodMapping().add(caller="fit", callee="score"))

    def _bayes_costs(self, objective, theta, data, calibrated):
        """The cost matrix of Bayes decisions, or None (see the classifier)."""
        return None

    def _full_batch(self, n_rows):
        """Whether an iteration on `n_rows` rows uses them all."""
        return self.batch_size is None or self.batch_size >= n_rows

    def _class_weights(self, y):
        """Per-sample class weights of the surrogate loss (ones for a regressor)."""
        class_weight = getattr(self, "class_weight", None)
        if class_weight is None:
            return np.ones(y.shape[0])
        try:
            return compute_sample_weight(class_weight, y)
        except ValueError as exc:
            raise ValueError(f"class_weight={class_weight!r} is not usable: "
                             f"{exc}") from exc

    def _split(self, y, rng):
        """Indices of the training and the validation part (or None)."""
        n = y.shape[0]
        if self.early_stopping == "cv" or not self.early_stopping:
            return np.arange(n), None
        n_valid = int(np.ceil(self.validation_fraction * n))
        if n_valid < 1 or n - n_valid < 2:
            raise ValueError(
                f"validation_fraction={self.validation_fraction!r} leaves "
                f"{n - n_valid} training and {n_valid} validation samples of "
                f"{n}; early_stopping needs at least 2 and 1")
        valid = stratified_sample(self._strata(y), n_valid, rng)
        train = np.setdiff1d(np.arange(n), valid)
        return train, valid

    def _strata(self, y):
        """Classes for stratified sampling (one stratum for a regressor)."""
        return y if self._is_classifier() else np.zeros(y.shape[0])

    def _surrogate_loss(self, scorer):
        """The surrogate loss of `surrogate_loss` for `scorer` (see the
        regressor's 'auto')."""
        return self.surrogate_loss

    def _surrogate(self, shapes, data, loss):
        """``surrogate(theta, data) -> (loss, gradient)``, or None."""
        if loss is None:
            return None
        l2 = self.l2_regularization
        if l2 == "auto":                    # LogisticRegression(C=1.0)
            l2 = 1.0 / data.weights.sum()
        return _model.Surrogate(shapes, self.activation, loss, l2)

    def _initial_parameters(self, first_fit, shapes, scaling, data, surrogate,
                            rng):
        if not first_fit:
            old = [(W.shape[0], W.shape[1]) for W in self.coefs_]
            if old != shapes:
                raise ValueError(
                    f"warm_start=True needs the layer shapes of the previous "
                    f"fit, {old}, got {shapes}; set warm_start=False to refit")
            layers = list(zip(self.coefs_, self.intercepts_))
            return _model.pack(_model.unfold_scaling(layers, *scaling)), None
        init = self.init
        if init == "auto":
            init = "random" if surrogate is None else "surrogate"
        if init == "surrogate" and surrogate is None:
            raise ValueError(
                "init='surrogate' needs a surrogate loss, got surrogate_loss="
                "None; use init='random' or 'auto'")
        if init == "random":
            return _model.init_random(shapes, rng), None
        if len(shapes) == 1:
            origin = np.zeros(_model.n_parameters(shapes))
            return _model.minimize_surrogate(surrogate, origin, data), origin
        origin = _model.init_random(shapes, rng)
        return _model.straight_through_descent(surrogate, origin, data), origin

    def _scorer(self):
        scoring = self.scoring
        if isinstance(scoring, str) and scoring not in get_scorer_names():
            close = difflib.get_close_matches(scoring, get_scorer_names(), n=3)
            hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
            raise ValueError(
                f"scoring={scoring!r} is not a scikit-learn scorer name (see "
                f"sklearn.metrics.get_scorer_names()){hint}")
        if scoring is None:        # what `score` computes
            scoring = "accuracy" if self._is_classifier() else "r2"
        try:
            return check_scoring(self, scoring)
        except ValueError as exc:
            raise ValueError(f"scoring={scoring!r} is not usable: {exc}") from exc

    def _template(self):
        """An unfitted-looking copy of self that `NegativeScore` fills in."""
        template = object.__new__(type(self))
        template.__dict__.update(
            {key: value for key, value in self.__dict__.items()
             if key not in ("feature_names_in_", *_FITTED)})
        return template

    def _set_layers(self, layers):
        self.coefs_ = [W for W, _ in layers]
        self.intercepts_ = [b for _, b in layers]
        if len(layers) == 1:
            self._set_linear_attributes()
        else:                      # a network has no coef_: drop a stale one
            for name in ("coef_", "intercept_"):
                self.__dict__.pop(name, None)

    # -- prediction --------------------------------------------------------------
    def _check_X(self, X):
        check_is_fitted(self, "coefs_")
        return validate_data(self, X, reset=False, accept_sparse="csr",
                             dtype=[np.float64, np.float32])

    def _raw_output(self, X, layers=None):
        X = self._check_X(X)
        if layers is None:
            layers = list(zip(self.coefs_, self.intercepts_))
        return np.asarray(_model.forward(layers, X, self.activation))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class GuidedESClassifier(ClassifierMixin, _BaseGuidedES):
    """A classifier that maximises any scorer with Guided ES.

    The model is linear (one weight vector for two classes, one per class
    otherwise) or, with `hidden_layer_sizes`, a network whose hidden units
    have a non-differentiable 'sign' or 'step' activation. Its parameters
    maximise `scoring` on the training data: Guided ES [1]_ estimates the
    ascent direction from antithetic pairs of scorer values, sampling its
    perturbations mostly along the gradients of a smooth `surrogate_loss`
    (with the straight-through estimator [2]_ through sign/step units).

    Parameters
    ----------
    scoring : str, callable or None, default=None
        What to maximise: a scorer name (``'f1'``, ``'balanced_accuracy'``,
        see `sklearn.metrics.get_scorer_names`), a scorer object
        (`sklearn.metrics.make_scorer`, e.g. with a cost matrix), or a
        callable ``scorer(estimator, X, y) -> float``, greater is better.
        ``None`` maximises accuracy.
    surrogate_loss : {'log_loss', 'hinge', 'squared_hinge'} or None, \
            default='log_loss'
        Smooth proxy whose gradient (plus the L2 penalty) guides the search:
        binary or multinomial (softmax) log loss, or the binary /
        Crammer-Singer hinge. ``None`` runs pure ES (no guidance).
    hidden_layer_sizes : tuple of int, default=()
        Widths of the hidden layers; ``()`` is a linear model.
    activation : {'sign', 'step'}, default='sign'
        Activation of the hidden units: ``sign(a)`` in {-1, 1} or the step
        ``1{a > 0}``.
    l2_regularization : float or 'auto', default='auto'
        L2 penalty ``l2 / 2 * |W|^2`` on the weights (on standardised
        inputs) added to the mean surrogate loss. It shapes the
        initialisation and the guiding directions, not the maximised score.
        'auto' is ``1 / sum(sample_weight)`` (``1 / n_samples`` without
        weights): on the summed loss, the penalty of scikit-learn's defaults
        ``LogisticRegression(C=1.0)`` and ``Ridge(alpha=1.0)``, so that the
        linear start is that model fitted on the standardised numeric
        inputs with two-valued columns (one-hot indicators, 0/1 flags) on
        their own 0/1 scale: the model of the usual pipeline,
        ``StandardScaler`` on the numeric columns and ``OneHotEncoder`` on
        the categorical ones (see Notes).
    init : {'auto', 'surrogate', 'random'}, default='auto'
        Starting parameters. 'surrogate' minimises the penalised surrogate
        loss: with L-BFGS for a linear model (the regularised logistic
        regression or linear SVM), with 200 steps of straight-through Adam
        for a network. 'random' draws Glorot-uniform weights. 'auto' is
        'surrogate' when there is a surrogate loss, 'random' otherwise.
    max_iter : int, default=300
        Maximum number of Guided ES iterations, each evaluating the scorer at
        ``2 * n_pairs + 1`` parameter vectors (the pairs and the centre).
    n_pairs : int, default=5
        Antithetic pairs ``P`` per iteration.
    subspace_dim : int, default=3
        Number ``k`` of recent surrogate gradients that span the guiding
        subspace (at most the number of parameters).
    sigma : float, default=0.3
        Scale of the perturbations of the parameters, which act on
        standardised inputs (and, for the regressor, a standardised target).
    alpha : float, default=0.5
        Share of the search variance in the full parameter space; the rest
        is spent in the guiding subspace. 1 is pure ES. (Not a penalty, unlike
        `alpha` in other scikit-learn estimators: see `l2_regularization`.)
    beta : float, default=2.0
        Scale of the gradient estimate (it matters only with ``step='sgd'``
        or ``'momentum'``: Adam is invariant to it).
    step : {'adam', 'sgd', 'momentum', 'auto'}, default='adam'
        Step rule applied to the gradient estimate. Adam makes the step size
        independent of the scale of the score; here its step grows linearly
        over its first 30 updates (see `ges_minimize.Adam`'s `warmup`), so
        that its first steps, about `learning_rate` on every parameter
        whatever the noise of the estimate, do not undo the fitted start.
        'auto' is the adaptive step of `ges_minimize.GuidedES`, which
        adapts the step length (and `sigma`) from the scores it evaluates;
        it has no `learning_rate`. On the benchmark's tasks it was not
        better than Adam, and worse on classification costs (see the user
        guide).
    learning_rate : float or None, default=None
        Step size of the rule; None takes the rule's default, 0.01 for
        'adam' (about the move of each standardised parameter per
        iteration), 0.2 for 'sgd' and 0.02 for 'momentum'. Must be None
        with ``step='auto'``.
    batch_size : int or None, default=None
        Rows per iteration. Each iteration draws a stratified minibatch and
        evaluates the surrogate gradient, the centre and every antithetic
        pair on it (common random numbers). None uses all the data.
    early_stopping : bool or 'cv', default='cv'
        How long to climb. 'cv' chooses the number of iterations by
        cross-validation on the folds of `cv`: each fold's start climbs on
        the fold's training rows for up to `max_iter` iterations, and the
        parameters the fit would return after about ten geometrically
        spaced numbers of iterations from 1 to `max_iter` are scored on the
        rows left out; the fit then runs the smallest number whose mean
        score is within one standard error of the best one's (1 keeps the
        start, give or take half a step). The fold climbs stop sooner once
        that choice has not changed over three checkpoints and the mean
        score is not at its best, but not before the seventh checkpoint (45
        iterations with ``max_iter=300``). It costs one climb per fold, and
        applies only with `cv` and a surrogate start (see `cv`); otherwise
        `max_iter` iterations run.
        True holds out a stratified `validation_fraction` of the data,
        scores the centre on it at each iteration, stops after
        `n_iter_no_change` iterations without improvement and keeps the best
        parameters (with ``selection='auto'``). False runs `max_iter`
        iterations on all the data.
    validation_fraction : float, default=0.1
        Share of the data held out for early stopping.
    n_iter_no_change : int or None, default=None
        Stop after this many iterations without an improvement greater than
        `tol` of the monitored score (the validation score with early
        stopping, else the training score at the centre when `batch_size`
        is None). None never stops before `max_iter`.
    tol : float, default=0.0
        Minimum improvement of the monitored score.
    warm_start : bool, default=False
        Start from the parameters of the previous fit.
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation, the perturbations and the minibatches; an
        int repeats a fit exactly, whatever `n_jobs`.
    n_jobs : int or None, default=None
        Workers, through joblib (honouring ``joblib.parallel_config``); None
        is serial. They run the climbs on the folds of
        ``early_stopping='cv'``, which are independent, in parallel; and,
        for a scorer computed by calling it (see Notes), they evaluate the
        ``2 * n_pairs + 1`` points of an iteration of the final climb (one
        pool per fit). Starting workers costs a second or so, so it pays
        only for slow scorers or large data.
    selection : {'auto', 'average', 'best', 'last'}, default='auto'
        Which parameters the fit returns. 'average': the mean of the centres
        of the second half of the run (Polyak-Ruppert averaging). 'best':
        the centre with the best monitored score (training score, or
        validation score with early stopping; the last centre with
        minibatches and no early stopping). 'last': the last centre. 'auto'
        is 'best' with early stopping, 'average' otherwise. See Notes.
    cv : int, cross-validation generator, iterable or None, default=5
        Cross-validation that tunes the start of a model with one output (a
        binary classifier, a regressor): the intercept of the surrogate-loss
        minimiser is shifted by the amount that maximises the scorer on its
        out-of-fold outputs (a decision threshold, as
        `sklearn.model_selection.TunedThresholdClassifierCV` tunes it), if
        it beats no shift by more than one standard error of the fold-wise
        differences of the score (for two classes and a scorer linear in
        the confusion matrix, no shift is the Bayes threshold: see
        `decision`). For several classes, offsets per class
        added to the start's log-probabilities (the decision is
        ``argmax(log p + offsets)``, the first class's offset 0) are tuned
        for the scorer on the same out-of-fold outputs by a coordinate
        search, and kept if, searched for without each fold in turn, they
        beat zero offsets on that fold by more than one standard error of
        the fold-wise differences (not for a scorer of probabilities, nor
        with the Bayes decisions of `decision`). The
        same folds choose the number of iterations with
        ``early_stopping='cv'``. An int is the number of
        (stratified, for a classifier) unshuffled folds, at most the size of
        the largest class, as scikit-learn's own ``cv=5``: for rows stored
        in an order (by date, group or class), pass a shuffled splitter
        such as ``StratifiedKFold(5, shuffle=True, random_state=0)``, or the
        folds differ from one another; anything else as in
        `sklearn.model_selection.check_cv`. Costs one surrogate fit per
        fold. None, ``early_stopping=True``, or a start that is not the
        surrogate minimiser (``init='random'``, warm start) skips both.
    class_weight : dict, 'balanced' or None, default=None
        Weights of the classes, multiplied with `sample_weight` (as in
        `sklearn.linear_model.LogisticRegression`): they weight the
        surrogate loss, and so the start, and the rows given to the scorer.
        'balanced' weights each class inversely to its frequency.
    decision : {'auto', 'argmax'}, default='auto'
        The decision rule. For several classes, 'auto' takes the Bayes
        decisions of the scorer's costs when its metric is linear in the
        (weighted) confusion matrix (a cost per pair of true and predicted
        classes found by probing it, or balanced accuracy) and the start is
        a calibrated probability model (the default log loss and surrogate
        start): `predict` is then the class of least expected cost under
        the softmax probabilities of `decision_function`, and `cv` tunes no
        class offsets (see Notes). 'argmax' always predicts the largest
        output of `decision_function`, with the class offsets of `cv`.
        Accuracy, whose Bayes decision is the most probable class, uses
        'argmax' either way. For two classes the Bayes decision is a
        threshold: 'auto' shifts the start's log-odds to it (`bayes_shift_`)
        before `cv` tunes the threshold, so that the folds move it only
        when they beat it by a standard error; 'argmax' tunes it from
        ``p = 1/2``.
    verbose : int, default=0
        1 prints a line every 10 iterations of every climb (the iteration,
        the training score of the centre, the length of the step) and the
        number of iterations ``early_stopping='cv'`` chose; 2 prints every
        iteration.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Weights of a linear model, on the original features.
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Intercepts of a linear model.
    coefs_ : list of ndarray
        Weight matrices of the layers of the decision model, input to
        output; the first acts on the original features.
    intercepts_ : list of ndarray
        Intercepts of the layers.
    proba_coefs_, proba_intercepts_ : list of ndarray
        The layers of the probability model of `predict_proba` (see
        `predict_proba`): the start, or the decision model's layers.
    n_iter_ : int
        Number of Guided ES iterations of the fit (not counting the climbs
        on the folds of ``early_stopping='cv'``).
    objective_curve_ : ndarray of shape (n_iter_ + 1,)
        The score being maximised at the centre before each iteration and
        after the last, on the training data (on the iteration's minibatch
        with `batch_size`, except the last entry; without the validation
        part with early stopping).
    validation_curve_ : ndarray of shape (n_iter_ + 1,)
        The score on the validation part at the same points; only with
        early stopping.
    init_score_ : float
        The training score of the initial parameters (after the intercept
        tuning of `cv`), on all the training data.
    best_iteration_ : int
        Iteration whose centre was kept (see `selection`): the best
        training or validation score, the last centre, or, for 'average',
        the first of the averaged centres.
    intercept_shift_ : float
        Shift of the output intercept tuned by `cv` (on the standardised
        output), on top of `bayes_shift_` if any; only when it was tuned
        (two classes).
    bayes_shift_ : float
        Shift of the start's log-odds that makes their sign the Bayes
        decision of the scorer's costs, ``log((c_10 - c_11) / (c_01 -
        c_00))`` with ``c_ij`` the cost of predicting ``classes_[j]`` for a
        sample of ``classes_[i]`` (for balanced accuracy, ``log(prior_0 /
        prior_1)``); only for two classes with ``decision='auto'``, a
        calibrated start and a scorer linear in the confusion matrix whose
        errors cost unequally.
    class_offsets_ : ndarray of shape (n_classes,)
        Offsets of the start's log-probabilities (of its raw outputs, for a
        hinge loss) tuned by `cv`, added to the output intercepts (the
        first is 0; all 0 when they did not beat zero offsets); only when
        they were tuned (more than two classes, ``decision_rule_ ==
        'argmax'``).
    decision_rule_ : {'argmax', 'bayes', 'sample_bayes'}
        How `predict` decides from the raw outputs ``Z`` of
        `decision_function`: 'argmax', the largest output (for two classes,
        its sign); 'bayes', the class of least expected cost,
        ``argmin_j sum_i p_i cost_matrix_[i, j]`` with ``p`` the softmax of
        ``Z`` (see `decision`); 'sample_bayes', the same under each
        sample's own costs (`fit` and `predict` with `sample_costs`).
    cost_matrix_ : ndarray of shape (n_classes, n_classes)
        The cost of predicting class ``j`` (column) for a sample of class
        ``i`` (row), in the order of `classes_`, whose expected cost the
        Bayes decisions minimise: the scorer's cost per pair, or its gain
        negated (for balanced accuracy, ``-1 / (n_classes * prior_i)`` on
        the diagonal, the priors those of the weighted training data); only
        when ``decision_rule_ == 'bayes'``.
    cv_checkpoints_ : ndarray of int
        The numbers of iterations compared by ``early_stopping='cv'``; only
        when it chose.
    cv_scores_ : ndarray of shape (n_folds, len(cv_checkpoints_))
        Their scores on each fold's left-out rows.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when X has string feature names.

    See Also
    --------
    GuidedESRegressor : The regressor.
    ges_minimize.GuidedES : The optimizer.

    Notes
    -----
    Inputs are standardised with their (weighted) mean and standard
    deviation before fitting, so `sigma` and `learning_rate` need no
    adjustment to the scale of the features (of any finite magnitude); the
    fitted weights are folded back onto the original features. A column
    that takes two values only (a one-hot indicator, a 0/1 flag) is centred
    and divided by its range instead: a rare category's indicator would
    otherwise be stretched by its small deviation, its coefficient barely
    penalised and the search's moves of it as large. A sparse ``X`` (CSR)
    stays sparse: the standardisation is applied through the products.

    *Speed.* The ``2 * n_pairs + 1`` candidates of an iteration are scored
    together, from one product of ``X`` with their stacked parameters. A
    scorer whose metric is a function of the confusion matrix or of the
    predictions is computed for all of them at once: scorer names such as
    ``'f1'``, ``'balanced_accuracy'``, ``'neg_mean_absolute_error'``, and
    `sklearn.metrics.make_scorer` of scikit-learn's metric functions with
    their keyword arguments (``fbeta_score`` with ``beta``,
    ``mean_pinball_loss`` with ``alpha``...) or of any function that is a
    mean of a cost per (true, predicted) class pair. Other metrics of the
    predictions are called on each candidate's predictions directly; the
    rest (scorers of probabilities, custom callables) are called as
    scorers on a model per candidate. Every fast way is checked equal to
    the scorer on the training data at the start and at a few random
    parameters before it is used. For two classes, a scorer of
    `decision_function` or `predict_proba` made by
    `sklearn.metrics.make_scorer` of `recall_at_precision`,
    `precision_at_top` or `sklearn.metrics.roc_auc_score` (with
    ``max_fpr``, the partial AUC) is computed for all candidates from one
    sort of their scores each.

    *Metadata.* With ``sklearn.set_config(enable_metadata_routing=True)``,
    `fit` passes the keyword arguments the scorer requested (an amount per
    sample for an example-dependent cost, say) to the scorer, subset with
    the rows wherever it scores rows; see `get_metadata_routing`. Such a
    scorer is computed by calling its metric on each candidate's
    predictions with the metadata, or by calling the scorer.

    *Probabilities and decisions.* `predict_proba` gives the probabilities
    of the start, the minimiser of the log loss (a logistic regression for
    a linear model), whose calibration it keeps; `decision_function` and
    `predict` are the decisions the climb tuned for the scorer, taken on
    top, as `sklearn.model_selection.TunedThresholdClassifierCV` tunes a
    threshold and leaves the probabilities alone. So ``predict`` need not
    be the most probable class (a cost that punishes missed positives
    predicts positive below a probability of 0.5; for several classes,
    the class offsets of `cv` call rare classes more often).

    *Bayes decisions.* For several classes, a scorer whose metric is linear
    in the confusion matrix (a cost matrix, balanced accuracy) has a best
    decision on calibrated probabilities that no offsets of the
    log-probabilities express in general: the class of least expected
    cost, ``argmin_j sum_i p_i C[i, j]``. With ``decision='auto'`` and a
    calibrated start, `predict` takes it, with ``p`` the softmax of
    `decision_function`: the start then makes the logistic regression's
    Bayes decisions, and the climb moves the parameters (and so ``p``)
    under the same rule, for as many iterations as ``early_stopping='cv'``
    finds that it pays (none if the start is as good). No class offsets
    are tuned on top: on calibrated probabilities the Bayes decision is
    already the best, and offsets tuned on the folds fit the differences
    between the folds as much as any error of the probabilities; the climb
    moves the intercepts with the other weights, judged on the same folds.
    The rule and the cost matrix are `decision_rule_` and `cost_matrix_`;
    `predict_proba` still gives the start's probabilities.

    *Example-dependent costs.* Costs that differ from sample to sample (a
    loan's loss grows with its amount) and are known when predicting are
    given as `sample_costs`, one cost matrix per sample, to `fit` and to
    `predict`. They replace the scorer: the fit minimises their mean, and
    `predict` takes each sample's Bayes decision under its own costs, so
    that the start makes the logistic regression's per-sample Bayes
    decisions [3]_ and the climb moves the parameters under the same rule.
    Costs known only at training time go to a scorer through metadata
    routing instead (see *Metadata*); a threshold on `decision_function`
    then decides.

    The defaults aim at the score on new data, not on the training data. On
    small data the climb on the training score overfits: the training score
    keeps improving while the score on new data stalls or falls. So:

    - *The start* is the model scikit-learn users compare with:
      ``l2_regularization='auto'`` makes the linear start
      ``LogisticRegression(C=1.0)`` (for the regressor ``Ridge(alpha=1.0)``,
      or, for the absolute error or a pinball loss, the minimiser of that
      loss, smoothed near zero, under the same penalty) on standardised
      inputs, and `cv` tunes its intercept for the scorer on out-of-fold
      outputs. Training outputs are optimistic
      (each sample helped fit them), so the training score puts a decision
      threshold or a quantile too close to the training points;
      out-of-fold outputs do not. The
      shift is kept only if it beats none by more than one standard error
      of the folds' differences: for accuracy or F1 the logistic
      regression's own threshold is usually as good, and a tuned one adds
      only the noise of the folds. For a cost per kind of error or
      balanced accuracy, the shift is tuned from the Bayes threshold of
      the costs on the start's probabilities (`bayes_shift_`).
    - *How long to climb* is chosen on the same folds
      (``early_stopping='cv'``): the smallest number of iterations whose
      out-of-fold score is within one standard error of the best. Each
      fold's start carries the shift tuned on the other folds, so that its
      own rows judge the start and the climb alike.
    - *The returned parameters* are the average of the centres of the
      second half of the run. The training score of a linear model is
      piecewise constant; on small, nearly separable data many centres tie
      at or near its best, and the best training centre is the one the
      noise of the search favoured. Guided ES ascends the score smoothed by
      its Gaussian perturbations; averaging its iterates (Polyak-Ruppert)
      removes most of the noise of the steps.
      ``selection='best'`` keeps the best centre, so that the training
      score never ends below `init_score_` (full batch).

    The user guide's page "When to use the estimators" compares them with
    a logistic regression whose threshold is tuned for the scorer, with
    measurements.

    References
    ----------
    .. [1] N. Maheswaranathan, L. Metz, G. Tucker, D. Choi and
       J. Sohl-Dickstein, "Guided evolutionary strategies: augmenting random
       search with surrogate gradients", ICML 2019. arXiv:1806.10230.
    .. [2] Y. Bengio, N. Leonard and A. Courville, "Estimating or propagating
       gradients through stochastic neurons for conditional computation",
       arXiv:1308.3432, 2013.
    .. [3] A. Correa Bahnsen, A. Stojanovic, D. Aouada and B. Ottersten,
       "Cost sensitive credit card fraud detection using Bayes minimum
       risk", ICMLA 2013. doi:10.1109/ICMLA.2013.68.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from ges_minimize import GuidedESClassifier
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> clf = GuidedESClassifier(scoring="f1", max_iter=50, random_state=0)
    >>> clf = clf.fit(X, y)
    >>> clf.predict(X[:5])
    array([0, 0, 0, 0, 0])
    >>> bool(clf.objective_curve_.max() >= clf.init_score_)
    True

    Costs per sample, here a missed positive costing ten times a feature's
    spread and a false alarm a fixed 3:

    >>> import numpy as np
    >>> stake = 10 * (X[:, 0] - X[:, 0].min())
    >>> C = np.zeros((len(y), 2, 2))
    >>> C[:, 1, 0], C[:, 0, 1] = stake, 3.0
    >>> clf = GuidedESClassifier(max_iter=20, random_state=0).fit(
    ...     X, y, sample_costs=C)
    >>> clf.decision_rule_
    'sample_bayes'
    >>> clf.predict(X[:5], sample_costs=C[:5]).shape
    (5,)
    """

    _parameter_constraints = {
        **_BaseGuidedES._parameter_constraints,
        "surrogate_loss": [StrOptions(set(_model.CLASSIFICATION_LOSSES)), None],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "decision": [StrOptions({"auto", "argmax"})],
    }

    def __init__(self, scoring=None, *, surrogate_loss="log_loss",
                 hidden_layer_sizes=(), activation="sign",
                 l2_regularization="auto", init="auto", max_iter=300, n_pairs=5,
                 subspace_dim=3, sigma=0.3, alpha=0.5, beta=2.0, step="adam",
                 learning_rate=None, batch_size=None, early_stopping="cv",
                 validation_fraction=0.1, n_iter_no_change=None, tol=0.0,
                 warm_start=False, random_state=None, n_jobs=None,
                 selection="auto", cv=5, class_weight=None, decision="auto",
                 verbose=0):
        self.scoring = scoring
        self.surrogate_loss = surrogate_loss
        self.class_weight = class_weight
        self.decision = decision
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.l2_regularization = l2_regularization
        self.init = init
        self.max_iter = max_iter
        self.n_pairs = n_pairs
        self.subspace_dim = subspace_dim
        self.sigma = sigma
        self.alpha = alpha
        self.beta = beta
        self.step = step
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.warm_start = warm_start
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.selection = selection
        self.cv = cv
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, sample_costs=None, **fit_params):
        """Fit the model to maximise `scoring` on ``(X, y)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; finite.
        y : array-like of shape (n_samples,)
            Class labels, at least two distinct.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, given to the scorer and to the surrogate
            loss. Rows of weight zero are left out, also of folds given to
            `cv` as indices, so that the fit is the one without them.
        sample_costs : array-like of shape (n_samples, n_classes, \
                n_classes), default=None
            Example-dependent costs: ``sample_costs[k, i, j]`` is the cost
            of predicting ``classes_[j]`` for sample ``k`` if its class is
            ``classes_[i]`` (a loan's loss grows with its own amount, say).
            The fit then minimises their mean, weighted by `sample_weight`,
            in place of a scorer (`scoring` must be None), and, with
            ``decision='auto'``, `predict` takes each sample's Bayes
            decision under its own costs, which it then needs for every
            row (see Notes).
        **fit_params : dict
            Metadata for the scorer, such as an amount per sample for an
            example-dependent cost; only with
            ``sklearn.set_config(enable_metadata_routing=True)`` and a
            scorer that requested them (``scorer.set_score_request(
            amount=True)``). Arrays with one entry per sample are subset
            with the rows wherever the scorer sees rows (the folds of
            `cv`, minibatches, the validation part).

        Returns
        -------
        self : GuidedESClassifier
            The fitted classifier.
        """
        return self._fit(X, y, sample_weight, fit_params, sample_costs)

    def _check_fit_costs(self, sample_costs, n_samples, fit_params):
        """`sample_costs` checked for a fit (see `fit`)."""
        if self.scoring is not None:
            raise ValueError(
                f"sample_costs define the score, so scoring must be None, got "
                f"scoring={self.scoring!r}; drop one of them")
        if fit_params:
            raise ValueError(
                f"fit got sample_costs and the scorer metadata "
                f"{sorted(fit_params)}; with sample_costs there is no scorer "
                "to route them to")
        return _decision.check_sample_costs(sample_costs, n_samples,
                                            self.classes_.size)

    def _is_classifier(self):
        return True

    def _encode_target(self, y, first_fit):
        check_classification_targets(y)
        classes = np.unique(y)
        if classes.size < 2:
            raise ValueError(
                "GuidedESClassifier needs samples of at least 2 classes in the "
                f"data, but y contains only one class: {classes[0].tolist()!r}")
        if first_fit:
            self.classes_ = classes
        elif not np.array_equal(classes, self.classes_):
            raise ValueError(
                f"warm_start=True needs the classes of the previous fit, "
                f"{self.classes_.tolist()}, got {classes.tolist()}")
        codes = np.searchsorted(self.classes_, y)
        if classes.size == 2:
            return codes[:, None].astype(np.float64)
        return np.eye(classes.size)[codes]

    def _set_linear_attributes(self):
        self.coef_ = self.coefs_[0].T.copy()
        self.intercept_ = self.intercepts_[0].copy()

    def _bayes_costs(self, objective, theta, data, calibrated):
        """The cost matrix of the Bayes decisions for the scorer, or None.

        Only with ``decision='auto'``, a calibrated probability model and a
        scorer of decisions (not of probabilities); `objective` switches its
        decisions to the rule (`NegativeScore.decide_by_costs`).
        """
        if self.decision != "auto" or not calibrated or objective.uses_proba:
            return None
        return objective.decide_by_costs(theta, data)

    def _bayes_shift(self, objective, data, calibrated):
        """The intercept shift of the Bayes threshold of two classes, or None.

        On the same terms as `_bayes_costs` (``decision='auto'``, a
        calibrated start, a scorer of decisions), for two classes and a
        scorer linear in the weighted confusion matrix: the shift that makes
        the sign of the start's log-odds the decision of least expected cost
        (`_decision.bayes_shift`).
        """
        if (self.decision != "auto" or not calibrated or objective.uses_proba
                or objective.classes.size != 2):
            return None
        costs = objective.cost_matrix(data)
        return None if costs is None else _decision.bayes_shift(costs)

    def _set_probability_model(self, proba_theta, objective, shapes, scaling,
                               previous):
        """The layers of `predict_proba` (see `_decision`)."""
        if objective.uses_proba:
            layers = list(zip(self.coefs_, self.intercepts_))
        elif proba_theta is not None:
            layers = _model.fold_scaling(_model.unpack(proba_theta, shapes),
                                         *scaling)
        elif previous is not None:
            layers = previous
        else:
            layers = list(zip(self.coefs_, self.intercepts_))
        self.proba_coefs_ = [W for W, _ in layers]
        self.proba_intercepts_ = [b for _, b in layers]

    def decision_function(self, X):
        """Raw output of the decision model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            For two classes, positive values predict ``classes_[1]``; for
            more, one column per class, the largest predicted (with
            ``decision_rule_ == 'bayes'``, the least expected cost under
            their softmax).
        """
        Z = self._raw_output(X)
        return Z[:, 0] if Z.shape[1] == 1 else Z

    def predict_proba(self, X):
        """Class probabilities of the probability model.

        With the log loss as surrogate and a surrogate start (the defaults),
        these are the probabilities of the start, the surrogate-loss
        minimiser (a logistic regression for a linear model), which keep
        its calibration; `predict` takes the scorer's decisions on top of
        them, so it need not predict the most probable class. Otherwise,
        or when the scorer judges probabilities, the logistic (two classes)
        or softmax of `decision_function`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        calls = self.__dict__.get("_proba_calls")
        if calls is not None:            # the scorer's check during fit
            calls.append(1)
        layers = None
        if "proba_coefs_" in self.__dict__:
            layers = list(zip(self.proba_coefs_, self.proba_intercepts_))
        return _decision.probabilities(self._raw_output(X, layers))

    def predict(self, X, sample_costs=None):
        """Predicted class labels, the decisions that maximise `scoring`.

        The largest output of `decision_function` or, with
        ``decision_rule_ == 'bayes'``, the class of least expected cost
        under its softmax (see `cost_matrix_`); with ``decision_rule_ ==
        'sample_bayes'``, the class of least expected cost under each
        sample's own costs.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        sample_costs : array-like of shape (n_samples, n_classes, \
                n_classes), default=None
            The costs of the rows of `X`, as in `fit`; required when the
            classifier was fitted with them (``decision_rule_ ==
            'sample_bayes'``), refused otherwise.

        Returns
        -------
        y : ndarray of shape (n_samples,)
        """
        Z = self._raw_output(X)
        rule = self.__dict__.get("decision_rule_")
        if rule == "sample_bayes":
            if sample_costs is None:
                raise ValueError(
                    "this classifier was fitted with sample_costs and decides "
                    "by each sample's costs: predict needs sample_costs for "
                    "the rows of X")
            costs = _decision.check_sample_costs(sample_costs, Z.shape[0],
                                                 self.classes_.size)
            return self.classes_[_decision.sample_bayes_codes(Z, costs)]
        if sample_costs is not None:
            raise ValueError(
                f"predict got sample_costs, but this classifier decides by "
                f"decision_rule_={rule!r}: only one fitted with sample_costs "
                "and decision='auto' uses them")
        costs = self.__dict__.get("cost_matrix_") if rule == "bayes" else None
        return self.classes_[_decision.class_codes(Z, costs)]

    def score(self, X, y, sample_weight=None, sample_costs=None):
        """Accuracy, or, given `sample_costs`, minus the mean cost of `predict`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            True labels, among `classes_` when `sample_costs` is given.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the mean.
        sample_costs : array-like of shape (n_samples, n_classes, \
                n_classes), default=None
            The costs of the rows of `X`, as in `fit`. Without them the score
            is the accuracy of `predict` (which a classifier fitted with
            them cannot compute: it needs the costs to decide). With them
            it is minus the mean, weighted by `sample_weight`, of each
            row's cost of the decision `predict` takes (with these costs,
            for a classifier fitted with them): what such a fit maximised,
            so that `sklearn.model_selection.cross_validate` and grid
            searches compare fits by it when the costs are routed to
            ``score`` (``set_score_request(sample_costs=True)``).

        Returns
        -------
        score : float
        """
        if sample_costs is None:
            return super().score(X, y, sample_weight=sample_weight)
        if self.__dict__.get("decision_rule_") == "sample_bayes":
            pred = self.predict(X, sample_costs=sample_costs)
        else:
            pred = self.predict(X)
        costs = _decision.check_sample_costs(sample_costs, pred.shape[0],
                                             self.classes_.size)
        y = np.asarray(y)
        if y.shape != pred.shape:
            raise ValueError(f"y must have shape {pred.shape}, one label per "
                             f"row of X, got shape {y.shape}")
        unknown = ~np.isin(y, self.classes_)
        if unknown.any():
            raise ValueError(
                f"y holds the label {y[unknown][0].tolist()!r}, not among classes_ "
                f"{self.classes_.tolist()}, whose costs sample_costs cannot give")
        codes = np.searchsorted(self.classes_, pred)[None]
        return -float(_decision.mean_costs(
            costs, np.searchsorted(self.classes_, y), codes,
            _check_sample_weight(sample_weight, y.shape[0]))[0])


class GuidedESRegressor(RegressorMixin, _BaseGuidedES):
    """A regressor that maximises any scorer with Guided ES.

    The same method as `GuidedESClassifier` for a real target: the model
    (linear, or a network with sign/step hidden units) maximises `scoring`
    on the training data, guided by the gradient of `surrogate_loss`.

    Parameters
    ----------
    scoring : str, callable or None, default=None
        What to maximise, greater is better: a scorer name (for example
        ``'neg_mean_absolute_error'``), a scorer object, or a callable
        ``scorer(estimator, X, y)``. None maximises R^2.
    surrogate_loss : {'auto', 'squared_error', 'absolute_error', 'huber'} \
            or None, default='auto'
        Proxy loss on the standardised target whose gradient guides the
        search, and whose penalised minimiser is the start ('huber'
        switches from squared to absolute at one standard deviation of the
        target). 'auto' takes the scorer's own loss where it is convex and
        recognised: for ``mean_pinball_loss`` of level ``0 < alpha < 1``
        twice that pinball loss, and for the mean absolute error the same at 0.5 (the
        absolute error), each made quadratic within 0.05 standard
        deviations of the target so that its penalised minimiser, the
        start, is found reliably (``('quantile', alpha)``); 'squared_error'
        for any other scorer. The loss used is `surrogate_loss_`. None runs
        pure ES.
    hidden_layer_sizes, activation, l2_regularization, init, max_iter, \
n_pairs, subspace_dim, sigma, alpha, beta, step, learning_rate, batch_size, \
early_stopping, validation_fraction, n_iter_no_change, tol, warm_start, \
random_state, n_jobs, selection, cv, verbose
        As in `GuidedESClassifier` (minibatches and the validation part are
        drawn uniformly instead of stratified, `cv` folds are unstratified;
        'surrogate' initialisation of a linear model is ridge regression for
        'squared_error' (the penalised minimiser of the surrogate loss for
        the others), and `cv` shifts its intercept to the offset of the
        out-of-fold residuals that maximises the scorer, for example their
        median for the mean absolute error).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Weights of a linear model, on the original features.
    intercept_ : float
        Intercept of a linear model.
    coefs_, intercepts_, n_iter_, objective_curve_, validation_curve_, \
init_score_, best_iteration_, intercept_shift_, cv_checkpoints_, \
cv_scores_, n_features_in_, feature_names_in_
        As in `GuidedESClassifier` (the regressor has one output, so no
        ``class_offsets_``).
    surrogate_loss_ : str, tuple or None
        The surrogate loss used: `surrogate_loss`, or what 'auto' chose
        (``('quantile', alpha)`` for a pinball loss).

    See Also
    --------
    GuidedESClassifier : The classifier, with more details.

    Notes
    -----
    The target is standardised as well as the inputs, so `sigma` is relative
    to its spread; the fitted weights predict on the original scale. The
    candidates of an iteration are scored together, as for
    `GuidedESClassifier` (``mean_pinball_loss``, the mean absolute and
    squared errors and R^2 for all at once).

    References
    ----------
    .. [1] N. Maheswaranathan, L. Metz, G. Tucker, D. Choi and
       J. Sohl-Dickstein, "Guided evolutionary strategies: augmenting random
       search with surrogate gradients", ICML 2019. arXiv:1806.10230.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from ges_minimize import GuidedESRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = GuidedESRegressor(scoring="neg_mean_absolute_error", max_iter=50,
    ...                         random_state=0).fit(X, y)
    >>> bool(reg.objective_curve_.max() >= reg.init_score_)
    True
    >>> reg.predict(X[:2]).shape
    (2,)
    """

    _parameter_constraints = {
        **_BaseGuidedES._parameter_constraints,
        "surrogate_loss": [StrOptions({"auto", *_model.REGRESSION_LOSSES}), None],
    }

    def __init__(self, scoring=None, *, surrogate_loss="auto",
                 hidden_layer_sizes=(), activation="sign",
                 l2_regularization="auto", init="auto", max_iter=300, n_pairs=5,
                 subspace_dim=3, sigma=0.3, alpha=0.5, beta=2.0, step="adam",
                 learning_rate=None, batch_size=None, early_stopping="cv",
                 validation_fraction=0.1, n_iter_no_change=None, tol=0.0,
                 warm_start=False, random_state=None, n_jobs=None,
                 selection="auto", cv=5, verbose=0):
        self.scoring = scoring
        self.surrogate_loss = surrogate_loss
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.l2_regularization = l2_regularization
        self.init = init
        self.max_iter = max_iter
        self.n_pairs = n_pairs
        self.subspace_dim = subspace_dim
        self.sigma = sigma
        self.alpha = alpha
        self.beta = beta
        self.step = step
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.warm_start = warm_start
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.selection = selection
        self.cv = cv
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, **fit_params):
        """Fit the model to maximise `scoring` on ``(X, y)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; finite.
        y : array-like of shape (n_samples,)
            Target values; finite.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, given to the scorer and to the surrogate
            loss. Rows of weight zero are left out, also of folds given to
            `cv` as indices, so that the fit is the one without them.
        **fit_params : dict
            Metadata for the scorer, routed as in `GuidedESClassifier.fit`.

        Returns
        -------
        self : GuidedESRegressor
            The fitted regressor.
        """
        return self._fit(X, y, sample_weight, fit_params)

    def _is_classifier(self):
        return False

    def _surrogate_loss(self, scorer):
        if self.surrogate_loss != "auto":
            return self.surrogate_loss
        return _metrics.loss_of_scorer(scorer) or "squared_error"

    def _encode_target(self, y, first_fit):
        return np.asarray(y, dtype=np.float64)[:, None]

    def _set_linear_attributes(self):
        self.coef_ = self.coefs_[0][:, 0].copy()
        self.intercept_ = float(self.intercepts_[0][0])

    def predict(self, X):
        """Predicted target values.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,)
        """
        return self._raw_output(X)[:, 0]




# -- argument checks ---------------------------------------------------------------
def _check_sample_weight(sample_weight, n_samples):
    if sample_weight is None:
        return np.ones(n_samples)
    sample_weight = check_array(sample_weight, ensure_2d=False,
                                dtype=np.float64, input_name="sample_weight")
    if sample_weight.shape != (n_samples,):
        raise ValueError(
            f"sample_weight must have shape ({n_samples},), one weight per "
            f"sample, got shape {sample_weight.shape}")
    if np.any(sample_weight < 0):
        raise ValueError(
            f"sample_weight must be non-negative, got {sample_weight.min()!r}")
    if not np.any(sample_weight > 0):
        raise ValueError("sample_weight must not be all zero")
    return sample_weight


def _check_hidden_layer_sizes(sizes):
    sizes = tuple(np.ravel(sizes).tolist()) if np.ndim(sizes) else (sizes,)
    if not all(isinstance(s, numbers.Integral) and not isinstance(s, bool)
               and s >= 1 for s in sizes):
        raise ValueError(
            f"hidden_layer_sizes must be a tuple of positive integers, got "
            f"{sizes!r}")
    return sizes
