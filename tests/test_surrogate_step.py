"""The surrogate step of the adaptive mode (``surrogate_step``)."""

import pickle

import numpy as np
import pytest

from ges_minimize import GuidedES, minimize_guided_es


def sphere(x):
    return 0.5 * float(x @ x)


def test_first_ask_adds_the_centre_and_the_trial_point():
    es = GuidedES(np.ones(4), sigma=0.1, metric="none", rng=0)
    es.add_surrogate_grad(np.array([2.0, 0.0, 0.0, 0.0]))
    points = es.ask()
    assert es.evaluates_centre and es.evaluates_trial
    assert points.shape == (2 * 2 + 2, 4)
    np.testing.assert_array_equal(points[4], np.ones(4))
    # a first trial as long as sigma, along the (unit) surrogate
    np.testing.assert_allclose(points[5], [0.9, 1.0, 1.0, 1.0], rtol=0, atol=1e-15)
    np.testing.assert_array_equal(es.ask(), points)    # asked again: the same


def test_no_trial_without_a_surrogate_or_when_off():
    es = GuidedES(np.ones(4), metric="none", rng=0)
    assert es.ask().shape == (5, 4)                      # pairs and centre
    off = GuidedES(np.ones(4), metric="none", surrogate_step=False, rng=0)
    off.add_surrogate_grad(np.ones(4))
    assert not off.evaluates_trial and off.ask().shape == (5, 4)


def test_a_trial_that_beats_the_step_moves_the_centre():
    es = GuidedES(np.ones(4), sigma=0.1, metric="none", rng=0)
    es.add_surrogate_grad(np.ones(4))
    points = es.ask()
    es.tell([sphere(p) for p in points])
    trial = points[-1]
    np.testing.assert_array_equal(es.x, trial)
    assert es.centre_value == sphere(trial)
    assert es.n_surrogate_steps == 1 and es.nfev == 6
    # the value at the new centre is known: no centre row next time, and
    # the trial is twice as long
    es.add_surrogate_grad(es.x)
    points = es.ask()
    assert not es.evaluates_centre and points.shape == (5, 4)
    step = np.linalg.norm(points[-1] - es.x)
    assert step == pytest.approx(0.2, rel=1e-12)


def test_a_trial_uphill_halves_and_waits_longer():
    es = GuidedES(np.ones(4), sigma=0.1, metric="none", rng=0)
    es.add_surrogate_grad(-np.ones(4))                  # points uphill
    points = es.ask()
    es.tell([sphere(p) for p in points])
    assert es.n_surrogate_steps == 0
    assert not np.array_equal(es.x, points[-1])
    # the next trial waits two iterations, at half the length
    assert not es.evaluates_trial
    es.add_surrogate_grad(-es.x)
    es.tell([sphere(p) for p in es.ask()])
    assert es.evaluates_trial
    es.add_surrogate_grad(-es.x)
    points = es.ask()
    assert np.linalg.norm(points[-1] - es.x) == pytest.approx(0.05, rel=1e-12)


def test_nan_at_the_trial_point_is_a_failure():
    es = GuidedES(np.ones(4), sigma=0.1, metric="none", rng=0)
    es.add_surrogate_grad(np.ones(4))
    points = es.ask()
    values = [sphere(p) for p in points]
    values[-1] = np.nan
    es.tell(values)
    assert es.n_surrogate_steps == 0 and np.all(np.isfinite(es.x))
    assert es._trial_length == pytest.approx(0.05)


def test_wrong_number_of_values_leaves_the_state_as_it_was():
    es = GuidedES(np.ones(4), sigma=0.1, metric="none", rng=0)
    es.add_surrogate_grad(np.ones(4))
    points = es.ask()
    before = pickle.dumps(es)
    with pytest.raises(ValueError, match="values"):
        es.tell([sphere(p) for p in points[:-1]])     # the trial's value missing
    assert pickle.dumps(es) == before
    es.tell([sphere(p) for p in points])
    assert es.nit == 1


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


def test_the_surrogate_crosses_plateaus_the_pairs_cannot_see():
    # f is constant on unit cells in the first 8 coordinates (a staircase)
    # and smooth in the last 2; the straight-through surrogate is the
    # gradient of the smooth function under the staircase
    def f(x):
        return float(np.sum(np.round(x[:8]) ** 2) + np.sum(x[8:] ** 2))

    def surrogate(x):
        return 2.0 * x

    x0 = np.full(10, 6.3)
    kw = dict(maxfev=3000, sigma=1e-3, rng=0)
    on = minimize_guided_es(f, x0, surrogate, **kw)
    off = minimize_guided_es(f, x0, surrogate, surrogate_step=False, **kw)
    assert on.fun <= 1e-8 and off.fun >= 10.0
