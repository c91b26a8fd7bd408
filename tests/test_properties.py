"""Properties that hold for every small problem and every valid option.

Random convex quadratics in a few dimensions, random options (including
``'auto'``, the library's defaults and bounds), random budgets: the result
is finite, inside the bounds, within ``maxfev`` and repeated exactly by the
same seed; an ask/tell run pickled after a random number of tells resumes
bit for bit. Few examples each, so the module takes a few seconds.
"""

import os
import pickle

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ges_minimize import GuidedES, minimize_guided_es

# A fixed set of examples in CI; GES_HYPOTHESIS_EXAMPLES=500 searches wider.
EXAMPLES = int(os.environ.get("GES_HYPOTHESIS_EXAMPLES", "15"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None,
                    derandomize="GES_HYPOTHESIS_EXAMPLES" not in os.environ,
                    suppress_health_check=[HealthCheck.too_slow])


class Quadratic:
    """f(x) = sum(h * (x - c)^2) / 2 with a biased surrogate gradient."""

    def __init__(self, h, c, bias):
        self.h, self.c, self.bias = h, c, bias

    def __call__(self, x):
        return 0.5 * float(np.sum(self.h * (x - self.c) ** 2))

    def grad(self, x):
        return self.h * (x - self.c) + self.bias


reals = st.floats(-2.0, 2.0, allow_nan=False, width=64)


@st.composite
def problems(draw):
    """A quadratic, a start, and bounds that hold the start (or none)."""
    n = draw(st.integers(1, 5))
    h = np.array(draw(st.lists(st.floats(0.1, 10.0), min_size=n, max_size=n)))
    c = np.array(draw(st.lists(reals, min_size=n, max_size=n)))
    bias = np.array(draw(st.lists(reals, min_size=n, max_size=n)))
    x0 = np.array(draw(st.lists(reals, min_size=n, max_size=n)))
    bounds = None
    if draw(st.booleans()):
        below = draw(st.lists(st.one_of(st.none(), st.floats(0.0, 1.0)),
                              min_size=n, max_size=n))
        above = draw(st.lists(st.one_of(st.none(), st.floats(0.0, 1.0)),
                              min_size=n, max_size=n))
        bounds = [(None if lo is None else x - lo, None if hi is None else x + hi)
                  for x, lo, hi in zip(x0, below, above)]
    return Quadratic(h, c, bias), x0, bounds


@st.composite
def options(draw, n):
    """Valid options of GuidedES; a missing key keeps the library default."""
    opts = {}
    maybe = {
        "sigma": st.floats(1e-3, 1.0),
        "alpha": st.one_of(st.just("auto"), st.floats(0.0, 1.0)),
        "beta": st.one_of(st.just("auto"), st.floats(0.1, 4.0)),
        "n_pairs": st.integers(1, 3),
        "subspace_dim": st.integers(1, n),
        "step": st.sampled_from(["sgd", "momentum", "adam"]),
        "learning_rate": st.floats(1e-3, 1.0),
        "self_guided": st.booleans(),
    }
    for name, strategy in maybe.items():
        if draw(st.booleans()):
            opts[name] = draw(strategy)
    return opts


def lower_upper(bounds, n):
    if bounds is None:
        return np.full(n, -np.inf), np.full(n, np.inf)
    lb = np.array([-np.inf if lo is None else lo for lo, _ in bounds])
    ub = np.array([np.inf if hi is None else hi for _, hi in bounds])
    return lb, ub


@SETTINGS
@given(data=st.data(), problem=problems(), maxfev=st.integers(1, 40),
       seed=st.integers(0, 2**32 - 1), guided=st.booleans())
def test_minimize_finite_inside_bounds_within_budget_and_repeatable(
        data, problem, maxfev, seed, guided):
    f, x0, bounds = problem
    opts = data.draw(options(x0.size))
    surrogate = f.grad if guided else None
    run = dict(bounds=bounds, maxfev=maxfev, rng=seed, **opts)
    res = minimize_guided_es(f, x0, surrogate, **run)
    again = minimize_guided_es(f, x0, surrogate, **run)

    assert np.all(np.isfinite(res.x)) and np.isfinite(res.fun)
    lb, ub = lower_upper(bounds, x0.size)
    assert np.all(lb <= res.x) and np.all(res.x <= ub)
    assert res.nfev <= maxfev
    assert res.fun == f(res.x)
    np.testing.assert_array_equal(again.x, res.x)
    assert (again.fun, again.nfev, again.nit, again.status) == \
        (res.fun, res.nfev, res.nit, res.status)


def tell_once(es, f, guided):
    if guided:
        es.add_surrogate_grad(f.grad(es.x))
    es.tell([f(p) for p in es.ask()])


@SETTINGS
@given(data=st.data(), problem=problems(), seed=st.integers(0, 2**32 - 1),
       before=st.integers(0, 5), after=st.integers(1, 3), guided=st.booleans())
def test_pickled_run_resumes_bit_for_bit(data, problem, seed, before, after,
                                         guided):
    f, x0, bounds = problem
    opts = data.draw(options(x0.size))
    es = GuidedES(x0, bounds=bounds, rng=seed, **opts)
    for _ in range(before):
        tell_once(es, f, guided)
    resumed = pickle.loads(pickle.dumps(es))
    for _ in range(after):
        tell_once(es, f, guided)
        tell_once(resumed, f, guided)
    np.testing.assert_array_equal(resumed.x, es.x)
    np.testing.assert_array_equal(resumed.ask(), es.ask())
    assert (resumed.nit, resumed.nfev) == (es.nit, es.nfev)


@pytest.mark.parametrize("seed", [0, 1])
def test_properties_module_sees_the_public_defaults(seed):
    """The strategies leave defaults out; the defaults themselves must run."""
    f = Quadratic(np.ones(3), np.ones(3), np.zeros(3))
    res = minimize_guided_es(f, np.zeros(3), f.grad, maxfev=40, rng=seed)
    assert res.nfev <= 40 and np.isfinite(res.fun)
