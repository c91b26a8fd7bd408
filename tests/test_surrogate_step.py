"""The surrogate step of the adaptive mode (``surrogate_step``)."""

import pickle

import numpy as np
import pytest

from ges_minimize import GuidedES, minimize_guided_es


def sphere(x):
    return 0.5 * float(x @ x)


def test_the_first_ask_evaluates_the_centre_and_the_next_a_trial():
    es = GuidedES(np.ones(4), sigma=0.1, metric="none", rng=0)
    es.add_surrogate_grad(np.array([2.0, 0.0, 0.0, 0.0]))
    assert es.evaluates_centre and not es.evaluates_trial
    points = es.ask()
    assert points.shape == (2 * 2 + 1, 4)
    np.testing.assert_array_equal(points[4], np.ones(4))
    es.tell([sphere(p) for p in points])
    es.add_surrogate_grad(np.array([3.0, 0.0, 0.0, 0.0]))
    # a step was taken: its value is estimated, and the trial comes now
    assert es.evaluates_trial and not es.evaluates_centre
    x, step, m = es.x, es.step_norm, es._guide_average
    assert step > es.sigma
    points = es.ask()
    assert points.shape == (2 * 2 + 1, 4)
    # a first trial as long as the last step, along the (unit) moving
    # average of the guiding directions
    np.testing.assert_allclose(points[4], x - step * m / np.linalg.norm(m),
                               rtol=0, atol=1e-15)
    np.testing.assert_array_equal(es.ask(), points)    # asked again: the same


_H = np.diag(np.logspace(0, 2, 30))
_BIAS = np.random.default_rng(4).standard_normal(30)


def _quadratic(x):
    return 0.5 * float(x @ _H @ x)


def _biased(x):
    g = _H @ x
    return g + 0.3 * np.linalg.norm(g) * _BIAS


def _judged_trials(es, f, surrogate, iterations):
    """Run `es`; for each trial judged: (taken, below the centre, length
    before, length after, rows asked, rows predicted before the ask)."""
    out = []
    for _ in range(iterations):
        es.add_surrogate_grad(surrogate(es.x))
        predicted = (2 * es.n_pairs + es.evaluates_centre + es.evaluates_trial)
        length = es._next_trial_length()
        trial = es._next_trial()
        points = es.ask()
        es.tell([f(p) for p in points])
        if trial is not None:
            taken = np.array_equal(es.x, trial)
            below = f(trial) < es._trial_reference[0]
            out.append((taken, below, length, es._trial_length, len(points),
                        predicted))
        else:
            out.append((None, None, None, None, len(points), predicted))
    return out


@pytest.mark.parametrize("metric", ["none", "full"])
def test_one_extra_evaluation_per_iteration_at_most(metric):
    es = GuidedES(np.ones(30), sigma=0.1, metric=metric, rng=0)
    runs = _judged_trials(es, _quadratic, _biased, 300)
    rows = np.array([r[4] for r in runs])
    assert rows.max() == 2 * es.n_pairs + 1
    np.testing.assert_array_equal(rows, [r[5] for r in runs])   # as predicted
    assert sum(r[0] is not None for r in runs) >= 20      # trials were made
    assert es.n_surrogate_steps >= 2


def test_the_trial_length_doubles_when_taken_and_halves_uphill():
    es = GuidedES(np.ones(30), sigma=0.1, metric="none", rng=0)
    runs = [r for r in _judged_trials(es, _quadratic, _H.__matmul__, 300)
            if r[0] is not None]
    kinds = set()
    for taken, below, before, after, _, _ in runs:
        if taken:
            assert after == 2 * before
        elif below:                     # short of the step's promise
            assert after == before
        else:
            assert after == 0.5 * before
        kinds.add("taken" if taken else "short" if below else "uphill")
    assert kinds == {"taken", "short", "uphill"}


def test_bounds_turn_the_default_off_and_true_keeps_it():
    bounds = [(-5.0, 5.0)] * 4
    assert not GuidedES(np.ones(4), bounds=bounds).surrogate_step
    es = GuidedES(np.ones(4), bounds=bounds, surrogate_step=True, rng=0)
    es.add_surrogate_grad(np.ones(4))
    es.tell([sphere(p) for p in es.ask()])
    es.add_surrogate_grad(es.x)
    # with bounds the centre is evaluated at every iteration; an explicit
    # surrogate_step=True adds the trial beside it
    assert es.evaluates_centre and es.evaluates_trial
    assert es.ask().shape == (2 * 2 + 2, 4)


def test_no_trial_without_a_surrogate_or_when_off():
    es = GuidedES(np.ones(4), metric="none", rng=0)
    assert es.ask().shape == (5, 4)                      # pairs and centre
    off = GuidedES(np.ones(4), metric="none", surrogate_step=False, rng=0)
    off.add_surrogate_grad(np.ones(4))
    assert not off.evaluates_trial and off.ask().shape == (5, 4)


def _first_iteration(es, g):
    """The first iteration, which evaluates the centre and makes no trial."""
    es.add_surrogate_grad(g)
    points = es.ask()
    assert not es.evaluates_trial
    es.tell([sphere(p) for p in points])


def test_a_trial_taken_moves_the_centre_and_its_value_is_known():
    es = GuidedES(np.ones(30), sigma=0.1, metric="none", rng=0)
    for _ in range(50):
        es.add_surrogate_grad(_H @ es.x)
        length = es._next_trial_length()
        trial = es._next_trial()
        points = es.ask()
        es.tell([_quadratic(p) for p in points])
        if es.n_surrogate_steps:
            break
    assert es.n_surrogate_steps == 1
    np.testing.assert_array_equal(points[-1], trial)
    np.testing.assert_array_equal(es.x, trial)
    assert es.centre_value == _quadratic(trial)
    # the value at the new centre is known: no centre row next time, and
    # the next trial is twice as long
    es.add_surrogate_grad(_H @ es.x)
    points = es.ask()
    assert not es.evaluates_centre and es.evaluates_trial
    assert points.shape == (5, 30)
    assert np.linalg.norm(points[-1] - es.x) == pytest.approx(2 * length, rel=1e-12)


def test_a_trial_uphill_halves_and_waits_longer():
    es = GuidedES(np.ones(4), sigma=0.1, metric="none", rng=0)
    _first_iteration(es, -np.ones(4))                  # points uphill
    es.add_surrogate_grad(-es.x)
    length = es._next_trial_length()
    points = es.ask()
    assert es.evaluates_trial
    es.tell([sphere(p) for p in points])
    assert es.n_surrogate_steps == 0
    assert not np.array_equal(es.x, points[-1])
    assert es._trial_length == 0.5 * length
    # the next trial waits two iterations
    assert not es.evaluates_trial
    es.add_surrogate_grad(-es.x)
    es.tell([sphere(p) for p in es.ask()])
    assert es.evaluates_trial


def test_nan_at_the_trial_point_is_a_failure():
    es = GuidedES(np.ones(4), sigma=0.1, metric="none", rng=0)
    _first_iteration(es, np.ones(4))
    es.add_surrogate_grad(es.x)
    length = es._next_trial_length()
    points = es.ask()
    assert es.evaluates_trial
    values = [sphere(p) for p in points]
    values[-1] = np.nan
    es.tell(values)
    assert es.n_surrogate_steps == 0 and np.all(np.isfinite(es.x))
    assert es._trial_length == 0.5 * length


def test_wrong_number_of_values_leaves_the_state_as_it_was():
    es = GuidedES(np.ones(4), sigma=0.1, metric="none", rng=0)
    _first_iteration(es, np.ones(4))
    es.add_surrogate_grad(es.x)
    points = es.ask()
    assert es.evaluates_trial
    before = pickle.dumps(es)
    with pytest.raises(ValueError, match="values"):
        es.tell([sphere(p) for p in points[:-1]])     # the trial's value missing
    assert pickle.dumps(es) == before
    es.tell([sphere(p) for p in points])
    assert es.nit == 2


def test_argument_checks():
    with pytest.raises(ValueError, match="surrogate_step=True needs step='auto'"):
        GuidedES(np.ones(3), step="sgd", surrogate_step=True)
    with pytest.raises(TypeError, match="surrogate_step must be True, False or None"):
        GuidedES(np.ones(3), surrogate_step="yes")
    assert not GuidedES(np.ones(3), step="sgd").surrogate_step
    assert GuidedES(np.ones(3)).surrogate_step


def test_pickles_from_before_the_surrogate_step_resume_without_it():
    es = GuidedES(np.ones(4), metric="none", rng=0)
    state = dict(es.__dict__)
    for name in ("surrogate_step", "n_surrogate_steps", "_surrogate_seen",
                 "_trial_length", "_trial_gap", "_trial_next", "_pending_trial",
                 "_trial_reference", "_centre_value"):
        del state[name]
    old = GuidedES.__new__(GuidedES)
    old.__setstate__(state)
    old.add_surrogate_grad(np.ones(4))
    assert not old.surrogate_step and old.ask().shape == (5, 4)


def test_minimize_counts_the_trials_and_reports_f_at_x():
    res = minimize_guided_es(sphere, np.ones(10), lambda x: x + 0.5, maxfev=600,
                             rng=1)
    assert res.nfev <= 600 and res.fun == sphere(res.x)
    calls = []

    def counted(x):
        calls.append(1)
        return sphere(x)

    again = minimize_guided_es(counted, np.ones(10), lambda x: x + 0.5,
                               maxfev=600, rng=1)
    assert again.nfev == len(calls)
    np.testing.assert_array_equal(again.x, res.x)


def test_the_surrogate_crosses_plateaus_the_pairs_cannot_see(monkeypatch):
    # f is constant on unit cells in the first 8 coordinates (a staircase)
    # and smooth in the last 2; the straight-through surrogate is the
    # gradient of the smooth function under the staircase. The comparison
    # is of the line-search mode with and without the surrogate step: the
    # switch to the search for kinks is held off (it is tested below)
    from ges_minimize import _guided_es
    monkeypatch.setattr(_guided_es, "AUTO_KINK_SWITCH", np.inf)

    def f(x):
        return float(np.sum(np.round(x[:8]) ** 2) + np.sum(x[8:] ** 2))

    def surrogate(x):
        return 2.0 * x

    # The path on a staircase turns on the last bits of the metric's linear
    # algebra, which differ between machines, so the claim is over seeds:
    # measured on an AMD EPYC, the surrogate step ended lower on 5 of the 6
    # seeds, at 0.47 of the sum without it (on an Intel Xeon, seed 0 alone
    # reached 1e-8 against 10 or more without)
    x0 = np.full(10, 6.3)
    on, off = [], []
    for seed in range(6):
        kw = dict(maxfev=3000, sigma=1e-3, rng=seed)
        on.append(minimize_guided_es(f, x0, surrogate, **kw).fun)
        off.append(minimize_guided_es(f, x0, surrogate, surrogate_step=False,
                                      **kw).fun)
    assert sum(a < b for a, b in zip(on, off)) >= 4
    assert sum(on) < 0.75 * sum(off)


def test_without_trials_a_staircase_switches_to_the_search_for_kinks():
    # without the surrogate step no trial shows the jumps, and where the
    # stalled line search lets sigma fall far enough below the slopes, the
    # run is handed to the search for kinks, which ranks values across the
    # cells (at this budget on 6 or 7 of these 12 seeds, which ones
    # depending on the rounding of the machine's BLAS; the others stop at 20
    # to 360 above the minimum, as before the search existed)
    def f(x):
        return float(np.sum(np.round(x[:8]) ** 2) + np.sum(x[8:] ** 2))

    ends = [minimize_guided_es(f, np.full(10, 6.3), lambda x: 2.0 * x,
                               maxfev=10_000, sigma=1e-3, rng=seed,
                               surrogate_step=False).fun for seed in range(12)]
    assert sum(end < 1e-10 for end in ends) >= 4
