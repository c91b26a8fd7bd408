"""The adaptive mode's switch to a search for kinks (`nonsmooth_mode`)."""

import pickle

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from ges_minimize import GuidedES, Status, minimize_guided_es
from ges_minimize._guided_es import _linear_here
from ges_minimize._kink import KinkSearch
from ges_minimize._stepsize import resolved


def l1_distance(n, seed):
    centre = np.random.default_rng(seed).standard_normal(n)
    return lambda x: float(np.sum(np.abs(x - centre)))


def max_distance(n, seed):
    centre = np.random.default_rng(seed).standard_normal(n)
    return lambda x: float(np.max(np.abs(x - centre)))


def run(es, f, evaluations):
    while es.nfev < evaluations and es.converged is None:
        es.tell([f(p) for p in es.ask()])
    return es


@pytest.mark.parametrize("make", [l1_distance, max_distance])
def test_kinks_switch_to_the_search_and_go_far_below_the_stall(make):
    # before the switch existed both stalled above 1e-2 of their start
    f = make(20, 0)
    es = run(GuidedES(np.zeros(20), rng=0), f, 4000)
    assert es.nonsmooth_mode
    assert es.f_best < 1e-3 * f(np.zeros(20))


@pytest.mark.parametrize("n, seed", [(20, 0), (50, 1)])
def test_a_start_on_a_vertex_switches_to_the_search(n, seed):
    # from x0 = 0 every coordinate of max_i |x_i - 0.3| ties: a descent must
    # raise all of them at once, every step of the line search was taken
    # back, and the run stopped at x0 (as NONSMOOTH, or at n = 50 as
    # CONVERGED, a false success) before the switch at a fall of 1e3
    f = lambda x: float(np.max(np.abs(x - 0.3)))
    res = minimize_guided_es(f, np.zeros(n), maxfev=300 * n, rng=seed)
    assert res.fun < 1e-3 * f(np.zeros(n)) and res.fun == f(res.x)


@pytest.mark.parametrize("n, seed", [(10, 0), (20, 1)])
def test_a_staircase_without_surrogate_is_handed_to_the_search(n, seed):
    # sum of round(5 (x - 0.37))^2: the line search along the pairs' estimate
    # stalled on a step of the stair and stopped as CONVERGED (success) at
    # f = 8 to 62; a search that ranks the values crosses the steps
    f = lambda x: float(np.sum(np.round(5 * (x - 0.37)) ** 2))
    res = minimize_guided_es(f, np.zeros(n), maxfev=500 * n, rng=seed)
    assert res.fun == 0.0 == f(res.x)
    assert res.status == Status.NONSMOOTH and not res.success


def test_a_staircase_with_a_surrogate_keeps_the_line_search():
    # the handover is for runs without a surrogate: with one, the trials
    # along it cross the steps (and jumps lead to the non-monotone restart)
    f = lambda x: float(np.sum(np.round(5 * (x - 0.37)) ** 2))
    es = GuidedES(np.zeros(10), rng=0)
    es.add_surrogate_grad(2 * (es.x - 0.37))
    while es.nfev < 3000 and es.converged is None and not es.nonsmooth_mode:
        es.tell([f(p) for p in es.ask()])
        es.add_surrogate_grad(2 * (es.x - 0.37))
    assert not es.nonsmooth_mode


@pytest.mark.parametrize("seed", range(3))
def test_a_norm_smooth_but_at_its_minimum_keeps_the_line_search(seed):
    # on |x - c| the slopes never vanish, so sigma over the slopes falls with
    # the distance as at a kink, but the line searches stay regular and
    # converge faster than the search for kinks (which, switched to, ended
    # near 1e-7 of the start at this budget)
    centre = np.random.default_rng(seed).standard_normal(30)
    f = lambda x: float(np.linalg.norm(x - centre))
    res = minimize_guided_es(f, np.zeros(30), maxfev=6000, rng=seed)
    assert res.fun < 1e-10 * f(np.zeros(30)) and res.fun == f(res.x)
    # stopped at the kink of the norm by itself, not called a success
    assert res.status == Status.NONSMOOTH and res.nfev < 6000


@pytest.mark.parametrize("f, x0", [
    (lambda x: float(np.sum((x - 1.0) ** 2)), np.zeros(20)),
    (lambda x: float(np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)),
     np.zeros(10)),
    (lambda x: float(np.sum(np.arange(1, 21) ** 3 * x ** 4 + x ** 2)), np.ones(20)),
    (lambda x: 1e3 * float(np.sum((x / 1e-2 - 1.0) ** 2)), np.zeros(20)),
    # steps taken back from the start while sigma falls a thousandfold
    # (x on a scale 100 times below sigma's), and x0 at the minimum itself
    (lambda x: float(np.sum((x / 1e-3 - 1.0) ** 2)), np.zeros(20)),
    (lambda x: float(np.sum(100 * (x[1:] / 1e-3 - (x[:-1] / 1e-3) ** 2) ** 2
                            + (1 - x[:-1] / 1e-3) ** 2)), np.zeros(10)),
    (lambda x: 5.0 + float(np.sum(np.arange(1, 21) * (x - 1.0) ** 2)), np.ones(20)),
])
def test_smooth_functions_never_switch(f, x0):
    es = run(GuidedES(x0, rng=0), f, 200 * x0.size)
    assert not es.nonsmooth_mode


def test_minimize_on_a_kink_counts_returns_and_stops_as_nonsmooth():
    f = l1_distance(10, 1)
    calls = []
    res = minimize_guided_es(lambda x: calls.append(1) or f(x), np.zeros(10),
                             maxfev=200_000, rng=1)
    assert res.status == Status.NONSMOOTH and not res.success
    assert res.nfev == len(calls) < 200_000
    assert res.fun == f(res.x) and res.fun < 1e-9


def test_the_budget_holds_with_the_search_population():
    f = l1_distance(10, 1)
    for budget in (3000, 3001, 3007):
        res = minimize_guided_es(f, np.zeros(10), maxfev=budget, rng=1)
        assert res.nfev <= budget and res.status == Status.MAXFEV


def test_seeded_runs_and_pickled_resumes_repeat_exactly_after_the_switch():
    f = max_distance(10, 2)
    a = run(GuidedES(np.zeros(10), rng=3), f, 1500)
    assert a.nonsmooth_mode
    b = pickle.loads(pickle.dumps(a))
    run(a, f, 3000)
    run(b, f, 3000)
    c = run(GuidedES(np.zeros(10), rng=3), f, 3000)
    for other in (b, c):
        assert_array_equal(a.x, other.x)
        assert (a.nfev, a.sigma, a.f_best) == (other.nfev, other.sigma, other.f_best)


def test_bad_values_in_the_search_raise_and_leave_the_state_unchanged():
    f = l1_distance(10, 0)
    es = run(GuidedES(np.zeros(10), rng=0), f, 1500)
    assert es.nonsmooth_mode
    points = es.ask()
    before = pickle.dumps(es)
    with pytest.raises(ValueError, match="values"):
        es.tell(np.zeros(len(points) + 1))
    assert pickle.dumps(es) == before
    es.tell([f(p) for p in points])          # the same ask, told


def test_nan_values_rank_last():
    search = KinkSearch(np.ones(4), 0.5)
    rng = np.random.default_rng(0)
    for _ in range(200):
        points = search.ask(rng)
        values = np.abs(points).sum(axis=1)
        values[points[:, 0] > 1.5] = np.nan         # a region without values
        search.tell(values)
    assert np.abs(search.mean).sum() < 1e-6


def test_a_pickle_from_before_the_switch_resumes_without_it():
    es = GuidedES(np.zeros(3), rng=0)
    state = dict(es.__dict__)
    for name in ("_slope_ratio_max", "_kink_search", "_kink_switch"):
        del state[name]
    old = GuidedES.__new__(GuidedES)
    old.__setstate__(state)
    assert not old._kink_switch and not old.nonsmooth_mode


def test_with_trials_along_a_surrogate_the_result_is_f_at_x_and_no_worse():
    # a trial point taken at the switch left its value as the centre's;
    # the mean of the search then reported that value as its own
    centre = np.random.default_rng(5).standard_normal(20)
    f = lambda x: float(np.sum(np.abs(x - centre)))
    bias = np.ones(20) / np.sqrt(20)
    surrogate = lambda x: np.sign(x - centre) + 0.5 * bias * np.sqrt(20)
    for seed in range(3):
        res = minimize_guided_es(f, np.zeros(20), surrogate, maxfev=4000,
                                 rng=seed)
        assert res.fun == f(res.x)
        assert res.fun < 1e-2 * f(np.zeros(20))


@pytest.mark.parametrize("make", [l1_distance, max_distance])
def test_piecewise_linear_f_switches_within_the_first_iterations(make):
    # f is linear between kinks: the pairs' second differences vanish, and
    # the switch comes once a fifth of 20 iterations showed it (on these
    # functions at n = 20, seeds 0 to 3, it came after 60 to 560 iterations,
    # 310 to 2,800 evaluations, when it waited for sigma over the slopes to
    # fall 1e5 times)
    f = make(20, 0)
    es = GuidedES(np.zeros(20), rng=0)
    while not es.nonsmooth_mode and es.nit < 60:
        es.tell([f(p) for p in es.ask()])
    assert es.nonsmooth_mode and 20 <= es.nit < 40
    run(es, f, 4000)
    assert es.f_best < 1e-5 * f(np.zeros(20))


def test_linear_here_tells_linear_pieces_from_curvature():
    x, e = np.array([0.3, -0.2, 0.5]), np.array([[0.01, 0.02, -0.01], [0.0, 0.01, 0.03]])
    linear = lambda z: float(np.sum(np.abs(z - 2.0)))         # no kink within reach
    quadratic = lambda z: float(np.sum(z ** 2))
    for f, expected in ((linear, True), (quadratic, False)):
        f_plus = np.array([f(x + d) for d in e])
        f_minus = np.array([f(x - d) for d in e])
        assert _linear_here(f_plus, f_minus, f(x), resolved(f_plus, f_minus)) is expected
    # no pair resolves a difference, or f at the centre is not finite:
    # nothing to tell
    same = np.ones(2)
    assert _linear_here(same, same, 1.0, resolved(same, same)) is False
    assert _linear_here(f_plus, f_minus, np.nan, np.ones(2, bool)) is False


def test_an_unbounded_piecewise_linear_f_stops_as_an_overflow():
    # linear pieces from a start on every kink: the switch comes early, and
    # the search for kinks, whose scale then grows without end, stops
    f = lambda x: float(np.sum(np.abs(x)) - 2.0 * np.sum(x))
    res = minimize_guided_es(f, np.zeros(30), maxfev=20_000, rng=0)
    assert res.status == Status.OVERFLOW and not res.success
    assert res.nfev < 20_000 and res.fun == f(res.x)
    es = GuidedES(np.zeros(30), rng=0)
    with pytest.raises(FloatingPointError, match="unbounded below"):
        while True:
            points = es.ask()
            before = pickle.dumps(es)
            es.tell([f(p) for p in points])
    assert pickle.dumps(es) == before        # the failing tell changed nothing


def test_pickles_from_before_the_early_switch_resume():
    es = GuidedES(np.zeros(3), rng=0)
    state = dict(es.__dict__)
    del state["_linear"], state["_start_curvature"]
    old = GuidedES.__new__(GuidedES)
    old.__setstate__(state)
    assert old._linear == []
    assert old._start_curvature == np.inf        # no switch on a kink at x0
    search = KinkSearch(np.ones(4), 0.5)
    state = dict(search.__dict__)
    del state["initial_sigma"]
    old_search = KinkSearch.__new__(KinkSearch)
    old_search.__setstate__(state)
    assert old_search.initial_sigma == np.inf      # no test of growth
