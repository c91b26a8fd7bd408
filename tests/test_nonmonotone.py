"""Non-monotone acceptance in the adaptive mode (``nonmonotone``)."""

import functools
import pickle

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from ges_minimize import GuidedES, minimize_guided_es


def rosenbrock(x):
    return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2))


def rosenbrock_grad(x):
    g = np.zeros_like(x)
    g[:-1] = -400.0 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2.0 * (1.0 - x[:-1])
    g[1:] += 200.0 * (x[1:] - x[:-1] ** 2)
    return g


def biased(x):
    g = rosenbrock_grad(x)
    return g + 0.5 * np.linalg.norm(g) / np.sqrt(x.size)


def run(n_iter, **kwargs):
    es = GuidedES(np.zeros(6), sigma=0.1, rng=5, **kwargs)
    values = []
    for _ in range(n_iter):
        es.add_surrogate_grad(biased(es.x))
        es.tell([rosenbrock(p) for p in es.ask()])
        values.append(list(es._window))
    return es, values


def sign_network(seed, m=200, d=10, h=12):
    """Squared error of a 10-12-1 network with sign activations fitted to a
    teacher of the same shape; the straight-through surrogate (the hard
    tanh's derivative for sign's) and a random start."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, d))
    y = np.sign(X @ rng.standard_normal((d, h))) @ rng.standard_normal(h) / np.sqrt(h)

    def f(w):
        return float(np.mean((np.sign(X @ w[:d * h].reshape(d, h)) @ w[d * h:] - y) ** 2))

    def straight_through(w):
        W1, w2 = w[:d * h].reshape(d, h), w[d * h:]
        A = X @ W1
        H = np.sign(A)
        r = 2.0 * (H @ w2 - y) / m
        return np.concatenate([(X.T @ (np.outer(r, w2) * (np.abs(A) <= 1))).ravel(),
                               H.T @ r])
    return f, straight_through, 0.3 * rng.standard_normal(d * h + h)


def test_the_default_is_auto_and_smooth_runs_are_those_of_one():
    default, _ = run(150)
    one, _ = run(150, nonmonotone=1)
    assert default.nonmonotone == "auto" and one.nonmonotone == 1
    assert GuidedES(np.zeros(3), step="sgd").nonmonotone == 1
    assert_array_equal(one.x, default.x)
    assert one.nfev == default.nfev and one.n_reverted == default.n_reverted
    assert default.n_restarts == 0 and not default._jump_seen


#: Seeds of the small sign network. Which of them restart depends on the
#: last bits of the products with X (the signs of activations near zero),
#: and so on the machine's BLAS: the tests look at all of them, not at the
#: seeds that restart on one machine.
SIGN_SEEDS = range(10)


@functools.lru_cache(maxsize=None)
def sign_runs(seed):
    """The default run and the monotone run of the small sign network."""
    f, st, w0 = sign_network(seed)
    auto = minimize_guided_es(f, w0, st, maxfev=3000, rng=seed)
    one = minimize_guided_es(f, w0, st, maxfev=3000, rng=seed, nonmonotone=1)
    return auto, one


def test_auto_restarts_once_after_jumps_and_ends_lower():
    # measured on an AMD EPYC: seeds 0, 3, 4 and 9 restart, and the
    # restarted, non-monotone run ends below the monotone one on all but 4;
    # on the Intel Xeon this test was first written on, seeds 1, 2 and 5
    # of 0-5 restarted, each ending lower
    restarted = [seed for seed in SIGN_SEEDS if sign_runs(seed)[0].n_restarts]
    assert len(restarted) >= 2
    lower = 0
    for seed in SIGN_SEEDS:
        auto, one = sign_runs(seed)
        f = sign_network(seed)[0]
        assert auto.n_restarts in (0, 1) and one.n_restarts == 0
        assert auto.fun == f(auto.x) and auto.nfev <= 3000
        lower += seed in restarted and auto.fun < one.fun
    assert lower >= len(restarted) - 1
    seed = restarted[0]
    f, st, w0 = sign_network(seed)
    again = minimize_guided_es(f, w0, st, maxfev=3000, rng=seed)
    assert_array_equal(again.x, sign_runs(seed)[0].x)


def test_without_a_jump_auto_is_the_monotone_run():
    calm = [seed for seed in SIGN_SEEDS if not sign_runs(seed)[0].n_restarts]
    assert len(calm) >= 2
    for seed in calm:
        auto, one = sign_runs(seed)
        assert_array_equal(auto.x, one.x)
        assert auto.nfev == one.nfev and auto.status == one.status


def test_a_jump_is_rises_that_do_not_shrink_with_the_length():
    es = GuidedES(np.zeros(3), rng=0)
    for rise in (1.0, 0.25, 0.0625, 0.015625):      # a smooth minimum
        es._note_rise(rise, 10.0)
    assert not es._jump_seen
    # rises at the values' rounding are not jumps
    for rise in (1e-12, 1e-12, 1e-12, 1e-12, 1e-12):
        es._note_rise(rise, 100.0)
    assert not es._jump_seen and es._rises == []
    for rise in (1.0, 0.9, float("nan"), 0.8, 0.7, 0.6, 0.5):   # NaN starts afresh
        es._note_rise(rise, 10.0)
        assert es._jump_seen == (rise == 0.5)
    assert len(es._rises) == 4


def test_a_restart_keeps_counts_and_best_and_resumes_bit_identical():
    def drive(es, n_iter):
        for _ in range(n_iter):
            es.add_surrogate_grad(st(es.x))
            es.tell([f(p) for p in es.ask()])
        return es

    # the first seed whose run restarts within 1,000 iterations (which seed,
    # and when, depends on the rounding of the machine's BLAS)
    for seed in SIGN_SEEDS:
        f, st, w0 = sign_network(seed)
        es = GuidedES(w0, rng=seed)
        while es.nit < 1000 and not es.n_restarts:
            drive(es, 1)
        if es.n_restarts:
            break
    else:
        pytest.fail("no seed restarts within 1,000 iterations")
    restart = es.nit                  # the iteration that restarted
    part = drive(GuidedES(w0, rng=seed), restart // 2)
    full = drive(GuidedES(w0, rng=seed), restart + 100)
    assert part.n_restarts == 0 and full.n_restarts == 1
    assert full._window_size == 30
    assert full.nit == restart + 100 and full.f_best <= f(w0)
    resumed = drive(pickle.loads(pickle.dumps(part)), restart + 100 - restart // 2)
    assert_array_equal(resumed.x, full.x)
    assert resumed.nfev == full.nfev and resumed.n_restarts == 1


def test_a_window_keeps_rises_but_none_above_its_largest_value():
    es, windows = run(300, nonmonotone=6)
    monotone, _ = run(300)
    rises = 0
    for before, after in zip(windows, windows[1:]):
        assert len(after) <= 6
        if after[:-1] == before[-len(after) + 1:] and after[-1] > before[-1]:
            rises += 1
    assert rises > 0
    # the window's largest value never grows from one iteration to the next
    # by more than the pairs' estimate can misjudge a centre taken back to
    peaks = [max(w) for w in windows]
    assert max(peaks[10:]) <= peaks[9] * (1 + 1e-9)
    assert es.n_reverted < monotone.n_reverted
    assert not np.array_equal(es.x, monotone.x)


def test_minimize_returns_the_best_centre_and_f_there():
    calls = []

    def f(x):
        calls.append(1)
        return rosenbrock(x)

    res = minimize_guided_es(f, np.zeros(6), biased, maxfev=1500, rng=2,
                             nonmonotone=10)
    assert res.fun == rosenbrock(res.x)
    assert res.nfev == len(calls) <= 1500
    assert res.fun < rosenbrock(np.zeros(6))
    again = minimize_guided_es(rosenbrock, np.zeros(6), biased, maxfev=1500,
                               rng=2, nonmonotone=10)
    assert_array_equal(again.x, res.x)


def test_pickle_resume_is_bit_identical():
    full, _ = run(120, nonmonotone=7)
    part, _ = run(50, nonmonotone=7)
    resumed = pickle.loads(pickle.dumps(part))
    for _ in range(70):
        resumed.add_surrogate_grad(biased(resumed.x))
        resumed.tell([rosenbrock(p) for p in resumed.ask()])
    assert_array_equal(resumed.x, full.x)
    assert resumed._window == full._window


def test_an_error_in_tell_leaves_the_window_as_it_was():
    es, _ = run(20, nonmonotone=4)
    es.add_surrogate_grad(biased(es.x))
    points = es.ask()
    before = pickle.dumps(es)
    with pytest.raises(ValueError, match="values"):
        es.tell([rosenbrock(p) for p in points[:-1]])
    assert pickle.dumps(es) == before


def test_pickles_from_before_the_option_resume_monotone():
    es, _ = run(5)
    state = dict(es.__dict__)
    del state["nonmonotone"], state["_window"]
    old = GuidedES.__new__(GuidedES)
    old.__setstate__(state)
    assert old.nonmonotone == 1
    old.add_surrogate_grad(biased(old.x))
    old.tell([rosenbrock(p) for p in old.ask()])
    assert old.nit == 6


def test_checkpoints_from_before_the_option_resume(tmp_path):
    path = tmp_path / "run.ckpt"
    kw = dict(maxiter=30, rng=4)
    full = minimize_guided_es(rosenbrock, np.zeros(6), biased, **kw)
    minimize_guided_es(rosenbrock, np.zeros(6), biased, checkpoint=path,
                       **{**kw, "maxiter": 12})
    content = pickle.loads(path.read_bytes())
    del content["identity"]["nonmonotone"]      # as written before the option
    path.write_bytes(pickle.dumps(content))
    resumed = minimize_guided_es(rosenbrock, np.zeros(6), biased,
                                 checkpoint=path, **kw)
    assert_array_equal(resumed.x, full.x)
    assert resumed.nfev == full.nfev


@pytest.mark.parametrize("value, error, message", [
    (0, ValueError, "nonmonotone must be an integer >= 1, got 0"),
    (-3, ValueError, "nonmonotone must be an integer >= 1, got -3"),
    (2.5, TypeError, "nonmonotone must be an integer, got 2.5"),
    (True, TypeError, "nonmonotone must be an integer, got True"),
    ("yes", ValueError, "nonmonotone must be None, 'auto' or an integer >= 1, got 'yes'"),
])
def test_bad_values_are_refused_by_name(value, error, message):
    with pytest.raises(error, match=message):
        GuidedES(np.zeros(3), nonmonotone=value)
    with pytest.raises(error, match=message):
        minimize_guided_es(rosenbrock, np.zeros(3), nonmonotone=value)


def test_fixed_rate_rules_refuse_a_window():
    with pytest.raises(ValueError, match="nonmonotone=3 needs step='auto', got step='sgd'"):
        GuidedES(np.zeros(3), step="sgd", nonmonotone=3)
    with pytest.raises(ValueError, match="nonmonotone='auto' needs step='auto'"):
        minimize_guided_es(rosenbrock, np.zeros(3), step="sgd", nonmonotone="auto")
    assert GuidedES(np.zeros(3), step="sgd", nonmonotone=1).nonmonotone == 1
