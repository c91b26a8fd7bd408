"""The climb: Guided ES iterations on the objective, and what a run returns."""

import sys

import numpy as np
from threadpoolctl import ThreadpoolController

from .._guided_es import GuidedES
from .._steps import Adam

__all__ = ["make_optimizer", "climb", "Climb", "Monitor", "stratified_sample",
           "one_blas_thread"]

_controller = None


def one_blas_thread():
    """A context that limits BLAS to one thread.

    A fit makes thousands of small matrix products, on which BLAS threads
    only spin-wait. The controller that finds the loaded BLAS libraries is
    built once per process: building it scans every loaded library, which
    costs milliseconds, a noticeable share of a fit on small data.
    """
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="blas")

#: With ``verbose=1``, a line every this many iterations (and the first, last).
VERBOSE_EVERY = 10


#: Updates over which the step of the estimators' Adam grows to its full size.
ADAM_WARMUP = 30


def make_optimizer(est, theta0, rng):
    """The `GuidedES` of a climb, with the estimator's own settings (explicit:
    nothing depends on the optimizer's defaults).

    ``step='adam'`` is Adam with a warm-up over `ADAM_WARMUP` updates: the
    climbs start from a fitted model, where Adam's full-size first steps
    (about the learning rate on every coordinate, whatever the noise of
    the estimate) would first undo some of the fit.
    """
    step, learning_rate = est.step, est.learning_rate
    if step == "adam":
        step = Adam(warmup=ADAM_WARMUP) if learning_rate is None else Adam(
            learning_rate, warmup=ADAM_WARMUP)
        learning_rate = None
    return GuidedES(theta0, sigma=est.sigma, alpha=est.alpha, beta=est.beta,
                    n_pairs=est.n_pairs,
                    subspace_dim=min(est.subspace_dim, theta0.size),
                    step=step, learning_rate=learning_rate, bounds=None,
                    self_guided=False, rng=rng, estimate_rho=False,
                    metric="none", surrogate_step=False, nonmonotone=1)


def climb(est, es, objective, surrogate, fit_data, valid_data, full_batch,
          monitor, rng, evaluate, n_iter, label=""):
    """`n_iter` Guided ES iterations; the training and validation curves."""
    run = Climb(est, es, objective, surrogate, fit_data, valid_data, full_batch,
                monitor, rng, n_iter, label)
    run.run(evaluate)
    return run.curve, run.valid_curve


class Climb:
    """A run of at most `n_iter` Guided ES iterations that can be resumed.

    Every iteration scores the antithetic pairs and the centre on the same
    rows (the centre's score is recorded by `monitor`); after the last, the
    final centre is scored alone. `run` goes on until the centre after a
    given number of iterations is recorded, so that the parameters the run
    would return then (``monitor.selected()``) can be read; it is picklable
    between calls (the evaluator is an argument).
    """

    def __init__(self, est, es, objective, surrogate, fit_data, valid_data,
                 full_batch, monitor, rng, n_iter, label=""):
        self.est, self.es, self.objective, self.surrogate = est, es, objective, surrogate
        self.fit_data, self.valid_data, self.full_batch = fit_data, valid_data, full_batch
        self.monitor, self.rng, self.n_iter, self.label = monitor, rng, n_iter, label
        self.curve, self.valid_curve = [], []
        self.t = 0                      # iterations done
        self.done = False

    def recorded(self):
        """Number of iterations of the last centre recorded (-1: none yet)."""
        return self.monitor.iteration - 1

    def run(self, evaluate, until=None):
        """Iterate until the centre after `until` iterations is recorded (all
        `n_iter` with None) or the run ends; the parameters to return now."""
        while not self.done and (until is None or self.recorded() < until):
            self._step(evaluate)
        return self.monitor.selected()

    def _record(self, theta, score):
        self.curve.append(score)
        if self.valid_data is not None:
            self.valid_curve.append(-self.objective.one(theta, self.valid_data))
        return self.monitor.update(
            theta, self.valid_curve[-1] if self.valid_curve else score)

    def _step(self, evaluate):
        est, es = self.est, self.es
        if self.t == self.n_iter:       # the final centre, alone on all rows
            self._record(es.x, -evaluate(es.x[None], (self.fit_data,))[0])
            self.done = True
            return
        batch = self.fit_data if self.full_batch else self.fit_data.take(
            stratified_sample(est._strata(self.fit_data.y), est.batch_size, self.rng))
        if self.surrogate is not None:
            es.add_surrogate_grad(self.surrogate.gradient(es.x, batch))
        theta = es.x
        # the antithetic pairs and the centre, all on the same rows
        values = evaluate(np.vstack([es.ask(), theta]), (batch,))
        es.tell(values[:-1] / self.objective.unit)
        self.t += 1
        stop = self._record(theta, -values[-1])
        self._report(theta, es.x)
        if stop:                        # out of patience: the final centre
            self._record(es.x, -evaluate(es.x[None], (self.fit_data,))[0])
            self.done = True

    def _report(self, before, after):
        verbose = int(self.est.verbose)
        every = 1 if verbose >= 2 else VERBOSE_EVERY
        if verbose and (self.t % every == 0 or self.t in (1, self.n_iter)):
            step = float(np.linalg.norm(after - before))
            extra = (f"  validation {self.valid_curve[-1]:.6g}"
                     if self.valid_curve else "")
            print(f"[{type(self.est).__name__}]{self.label} iteration "
                  f"{self.t:4d}  score {self.curve[-1]:.6g}{extra}  step "
                  f"{step:.3g}", file=sys.stdout, flush=True)


class Monitor:
    """The centres seen, the one to return, and the patience test.

    `selection` says which parameters a run returns: 'average', the mean of
    the centres of the second half of the run (Polyak-Ruppert averaging);
    'best', the centre of best monitored score (or the last with
    ``select=False``, minibatches without validation); 'last', the last
    centre.
    """

    def __init__(self, n_iter_no_change, tol, select, selection="average"):
        self.n_iter_no_change, self.tol, self.select = n_iter_no_change, tol, select
        self.selection = selection
        self.best_score = -np.inf
        self.best_theta = None
        self.best_iteration = 0
        self.iteration = 0
        self.since_best = 0
        self.last = None
        self.centres = []         # kept for 'average' only

    def update(self, theta, score):
        """Record the score of centre `theta`; True when patience ran out."""
        if score > self.best_score + self.tol or self.best_theta is None:
            self.best_score, self.best_theta = score, theta
            self.best_iteration, self.since_best = self.iteration, 0
        else:
            self.since_best += 1
        self.last = theta
        if self.selection == "average":
            self.centres.append(theta)
        self.iteration += 1
        return (self.select and self.n_iter_no_change is not None
                and self.since_best >= self.n_iter_no_change)

    def _first_averaged(self):
        return (self.iteration - 1) // 2

    def selected(self):
        """The parameters to return after the centres recorded so far."""
        if self.selection == "last" or (self.selection == "best" and not self.select):
            return self.last
        if self.selection == "best":
            return self.best_theta
        return np.mean(self.centres[self._first_averaged():], axis=0)

    def selected_iteration(self):
        """The iteration of `selected` (the first averaged one for 'average')."""
        if self.selection == "last" or (self.selection == "best" and not self.select):
            return self.iteration - 1
        if self.selection == "best":
            return self.best_iteration
        return self._first_averaged()


def stratified_sample(strata, size, rng):
    """`size` distinct rows, each stratum in proportion (largest remainder)."""
    values, codes = np.unique(strata, return_inverse=True)
    counts = np.bincount(codes)
    quota = size * counts / counts.sum()
    take = np.floor(quota).astype(int)
    short = size - take.sum()
    take[np.argsort(take - quota)[:short]] += 1
    rows = [rng.permutation(np.flatnonzero(codes == c))[:take[c]]
            for c in range(values.size)]
    return np.sort(np.concatenate(rows))
