"""The climb: Guided ES iterations on the objective, and what a run returns."""

import sys

import numpy as np

from .._guided_es import GuidedES

__all__ = ["make_optimizer", "climb", "Monitor", "stratified_sample"]

#: With ``verbose=1``, a line every this many iterations (and the first, last).
VERBOSE_EVERY = 10


def make_optimizer(est, theta0, rng):
    """The `GuidedES` of a climb, with the estimator's own settings (explicit:
    nothing depends on the optimizer's defaults)."""
    return GuidedES(theta0, sigma=est.sigma, alpha=est.alpha, beta=est.beta,
                    n_pairs=est.n_pairs,
                    subspace_dim=min(est.subspace_dim, theta0.size),
                    step=est.step, learning_rate=est.learning_rate, bounds=None,
                    self_guided=False, rng=rng, estimate_rho=False)


def climb(est, es, objective, surrogate, fit_data, valid_data, full_batch,
          monitor, rng, evaluate, n_iter, snapshots=None, label=""):
    """`n_iter` Guided ES iterations; the training and validation curves.

    `snapshots`, a dict whose keys are iteration counts, receives the
    parameters the run would return after that many iterations.
    """
    curve, valid_curve = [], []
    verbose = int(est.verbose)
    every = 1 if verbose >= 2 else VERBOSE_EVERY

    def record(theta, score):
        curve.append(score)
        if valid_data is not None:
            valid_curve.append(-objective.one(theta, valid_data))
        stop = monitor.update(theta, valid_curve[-1] if valid_curve else score)
        if snapshots is not None and monitor.iteration - 1 in snapshots:
            snapshots[monitor.iteration - 1] = monitor.selected()
        return stop

    def report(t, theta_before, theta_after):
        if verbose and (t % every == 0 or t == n_iter):
            step = float(np.linalg.norm(theta_after - theta_before))
            extra = f"  validation {valid_curve[-1]:.6g}" if valid_curve else ""
            print(f"[{type(est).__name__}]{label} iteration {t:4d}  score "
                  f"{curve[-1]:.6g}{extra}  step {step:.3g}", file=sys.stdout,
                  flush=True)

    for t in range(1, n_iter + 1):
        batch = fit_data if full_batch else fit_data.take(stratified_sample(
            est._strata(fit_data.y), est.batch_size, rng))
        if surrogate is not None:
            es.add_surrogate_grad(surrogate(es.x, batch)[1])
        theta = es.x
        # the antithetic pairs and the centre, all on the same rows
        values = evaluate(np.vstack([es.ask(), theta]), (batch,))
        es.tell(values[:-1] / objective.unit)
        stop = record(theta, -values[-1])
        report(t, theta, es.x)
        if stop:
            break
    theta = es.x
    record(theta, -evaluate(theta[None], (fit_data,))[0])
    if snapshots is not None:            # stopped early: the final choice
        for t, theta in snapshots.items():
            if theta is None:
                snapshots[t] = monitor.selected()
    return curve, valid_curve


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
