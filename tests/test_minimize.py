"""minimize_guided_es: convergence, reproducibility, scipy plug-in, stopping, errors."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import Bounds, OptimizeWarning, minimize

from ges_minimize import GuidedES, Status, minimize_guided_es
from ges_minimize.problems import Rosenbrock, Sphere


def quad(x):
    return 0.5 * float(np.sum((x - 1.0) ** 2))


def biased(x):
    return (x - 1.0) + 0.5


def quad_and_grad(x):
    return quad(x), biased(x)


KW = dict(n_pairs=2, maxiter=200, rng=0)


@pytest.mark.parametrize("step, lr", [("sgd", None), ("momentum", None), ("adam", 0.05)])
def test_converges_on_sphere_with_biased_surrogate(step, lr):
    p = Sphere(n=10)
    res = minimize_guided_es(p.fun, p.x0, p.surrogate_grad, step=step,
                             learning_rate=lr, n_pairs=2, subspace_dim=2,
                             maxiter=2000, rng=0)
    assert res.fun - p.f_star < 1e-8
    assert_allclose(res.x, p.x_star, atol=1e-4)


@pytest.mark.parametrize("step, lr", [("sgd", 1e-3), ("momentum", 1e-4), ("adam", 0.01)])
def test_converges_on_rosenbrock_with_biased_surrogate(step, lr):
    p = Rosenbrock(n=2)
    res = minimize_guided_es(p.fun, p.x0, p.surrogate_grad, step=step,
                             learning_rate=lr, sigma=0.01, n_pairs=2,
                             maxiter=8000, rng=0)
    assert res.fun - p.f_star < 1e-2          # from f(x0) = 24.2
    assert_allclose(res.x, p.x_star, atol=0.2)


def test_descent_on_the_biased_surrogate_alone_stalls_where_guided_es_does_not():
    x = np.zeros(10)
    for _ in range(2000):
        x -= 0.2 * biased(x)
    res = minimize_guided_es(quad, np.zeros(10), biased, maxiter=1000,
                             n_pairs=2, rng=0)
    assert quad(x) > 0.1            # x* of the surrogate is 0.5, not 1
    assert res.fun < 1e-6


def test_same_seed_repeats_exactly_and_other_seed_differs():
    a = minimize_guided_es(quad, np.zeros(5), biased, **KW)
    b = minimize_guided_es(quad, np.zeros(5), biased, **KW)
    c = minimize_guided_es(quad, np.zeros(5), biased, **{**KW, "rng": 1})
    assert_array_equal(a.x, b.x)
    assert (a.fun, a.nfev, a.njev, a.nit) == (b.fun, b.nfev, b.njev, b.nit)
    assert not np.array_equal(a.x, c.x)
    gen = minimize_guided_es(quad, np.zeros(5), biased,
                             **{**KW, "rng": np.random.default_rng(0)})
    assert_array_equal(gen.x, a.x)


def test_result_fields_and_counts():
    res = minimize_guided_es(quad, np.zeros(3), biased, n_pairs=3, maxiter=7,
                             step="sgd", rng=0)
    assert (res.nit, res.nfev, res.njev) == (7, 7 * 6 + 1, 7)
    assert res.status == Status.MAXITER == 1 and not res.success
    assert res.message == "Maximum number of iterations has been exceeded."
    assert res.fun == quad(res.x)


def test_matches_the_ask_tell_loop():
    centres = []
    res = minimize_guided_es(quad, np.zeros(4), biased, n_pairs=2, maxiter=30, rng=3,
                             callback=lambda xk: centres.append(xk))
    es = GuidedES(np.zeros(4), n_pairs=2, rng=3)
    for _ in range(30):
        es.add_surrogate_grad(biased(es.x))
        es.tell([quad(p) for p in es.ask()])
    assert res.nit == len(centres) == 30
    assert_array_equal(centres[-1], es.x)
    # res.x is that centre, or the one before its step if that is lower
    last = es._last_step
    if last is not None and not quad(es.x) <= last[2] and quad(last[3]) < quad(es.x):
        assert_array_equal(res.x, last[3])
    else:
        assert_array_equal(res.x, es.x)


def test_no_surrogate_is_vanilla_es():
    # without a surrogate and without the self-guided buffer (on by default
    # with step='auto'), the search is vanilla ES, as with alpha = 1
    res = minimize_guided_es(quad, np.zeros(4), maxiter=30, rng=3,
                             self_guided=False)
    alpha1 = minimize_guided_es(quad, np.zeros(4), biased, alpha=1.0,
                                maxiter=30, rng=3, self_guided=False)
    es = GuidedES(np.zeros(4), alpha=1.0, rng=3, self_guided=False)
    for _ in range(30):
        es.tell([quad(p) for p in es.ask()])
    assert_array_equal(res.x, es.x)
    assert_array_equal(alpha1.x, es.x)
    assert res.njev == 0


# -- scipy.optimize.minimize as the front end ----------------------------------

def test_scipy_minimize_with_jac_callable():
    ours = minimize_guided_es(quad, np.zeros(5), biased, **KW)
    res = minimize(quad, np.zeros(5), method=minimize_guided_es, jac=biased,
                   options=KW)
    assert_array_equal(res.x, ours.x)
    assert (res.nfev, res.njev) == (ours.nfev, ours.njev)


@pytest.mark.parametrize("surrogate_step", [True, False])
def test_jac_true_direct_and_through_scipy(surrogate_step):
    kw = dict(KW, surrogate_step=surrogate_step)
    direct = minimize_guided_es(quad_and_grad, np.zeros(5), jac=True, **kw)
    ref = minimize_guided_es(quad, np.zeros(5), biased, **kw)
    assert_array_equal(direct.x, ref.x)
    assert direct.nit == ref.nit
    if not surrogate_step:
        # the adaptive mode evaluates the centre at every iteration here (it
        # learns a metric); with jac=True that value comes with the gradient
        assert ref.nfev - 1 <= direct.nfev <= ref.nfev
    else:
        # ... but after a trial point taken, whose value is known, the
        # separate run skips the centre, while jac=True calls fun there
        # for the gradient
        assert ref.nfev - 1 <= direct.nfev <= ref.nfev + ref.nit
    via_scipy = minimize(quad_and_grad, np.zeros(5), method=minimize_guided_es,
                         jac=True, options=kw)
    assert_array_equal(via_scipy.x, ref.x)


def test_args_reach_fun_and_surrogate():
    f = lambda x, c: 0.5 * float(np.sum((x - c) ** 2))
    g = lambda x, c: x - c + 0.1
    res = minimize(f, np.zeros(3), args=(2.0,), method=minimize_guided_es,
                   jac=g, options={"maxiter": 500, "n_pairs": 2, "rng": 0})
    assert_allclose(res.x, 2.0, atol=1e-4)
    res = minimize_guided_es(f, np.zeros(3), g, args=2.0, maxiter=500, rng=0)
    assert_allclose(res.x, 2.0, atol=1e-3)


@pytest.mark.parametrize("bounds", [
    None,
    [(0.0, 0.8), (None, 0.8), (0.0, None), (None, None)],
    Bounds([0, -np.inf, 0, -np.inf], [0.8, 0.8, np.inf, np.inf]),
])
def test_scipy_bounds_in_all_forms(bounds):
    seen = []

    def f(x):
        seen.append(x.copy())
        return quad(x)

    res = minimize(f, np.full(4, 0.5), method=minimize_guided_es, jac=biased,
                   bounds=bounds, options={"maxiter": 300, "n_pairs": 2, "rng": 0})
    if bounds is None:
        assert_allclose(res.x, 1.0, atol=1e-4)
    else:
        pts = np.array(seen)
        assert np.all(pts[:, :2] <= 0.8) and np.all(pts[:, [0, 2]] >= 0)
        assert_allclose(res.x, [0.8, 0.8, 1.0, 1.0], atol=0.05)


def test_tol_sets_ftol_and_xtol():
    # a flat objective: no step, so xtol (set by tol) stops after `patience`
    res = minimize(lambda x: 1.0, np.zeros(3), method=minimize_guided_es,
                   tol=1e-12, options={"patience": 5, "rng": 0})
    assert res.status in (Status.FTOL, Status.XTOL) and res.success
    assert res.nit == 5 and res.status == Status.XTOL
    res = minimize(quad, np.zeros(3), method=minimize_guided_es, jac=biased,
                   options={"maxiter": 50, "rng": 0})
    assert res.status == Status.MAXITER


def test_callback_styles_and_intermediate_result():
    new_style, funs, old_style = [], [], []

    def cb_new(intermediate_result):
        new_style.append(intermediate_result)
        funs.append(intermediate_result.fun)     # f at x, evaluated on demand

    options = {"maxiter": 5, "rng": 0, "step": "sgd", "n_pairs": 2}
    minimize(quad, np.zeros(3), method=minimize_guided_es, jac=biased,
             callback=cb_new, options=options)
    minimize(quad, np.zeros(3), method=minimize_guided_es, jac=biased,
             callback=lambda xk: old_style.append(xk), options=options)
    assert [r.nit for r in new_style] == [1, 2, 3, 4, 5]
    # 2P = 4 values per iteration, and the centre once the callback read f
    assert [r.nfev for r in new_style] == [4, 9, 14, 19, 24]
    assert all(r.njev == r.nit for r in new_style)
    for r, f_x, xk in zip(new_style, funs, old_style):
        assert_array_equal(r.x, xk)
        assert f_x == quad(r.x) and r.fun == f_x    # scipy's own check


def test_intermediate_fun_not_read_costs_nothing():
    seen = []
    res = minimize_guided_es(quad, np.zeros(3), biased, maxiter=5, rng=0,
                             step="sgd", n_pairs=2,
                             callback=lambda intermediate_result: seen.append(
                                 intermediate_result.nfev))
    assert seen == [4, 8, 12, 16, 20] and res.nfev == 21
    with pytest.raises(AttributeError, match="only during the callback"):
        minimize_guided_es(quad, np.zeros(3), biased, maxiter=1, rng=0,
                           callback=lambda intermediate_result: seen.append(
                               intermediate_result))
        seen[-1].fun


@pytest.mark.parametrize("style", ["new", "old"])
def test_stopiteration_equals_maxiter(style):
    def cb_new(intermediate_result):
        if intermediate_result.nit == 17:
            raise StopIteration

    calls = []

    def cb_old(xk):
        calls.append(1)
        if len(calls) == 17:
            raise StopIteration

    cb = cb_new if style == "new" else cb_old
    stopped = minimize(quad, np.zeros(4), method=minimize_guided_es, jac=biased,
                       callback=cb, options={"rng": 5, "n_pairs": 2})
    ref = minimize_guided_es(quad, np.zeros(4), biased, maxiter=17, n_pairs=2, rng=5)
    assert stopped.status == 99 and not stopped.success
    assert stopped.message == "`callback` raised `StopIteration`."
    assert_array_equal(stopped.x, ref.x)
    assert (stopped.fun, stopped.nit, stopped.nfev) == (ref.fun, ref.nit, ref.nfev)


# -- termination criteria -------------------------------------------------------

def test_maxfev_is_never_exceeded():
    res = minimize_guided_es(quad, np.zeros(3), biased, n_pairs=3, maxfev=50,
                             step="sgd", rng=0)
    assert res.status == Status.MAXFEV and res.nfev <= 50
    assert res.nfev == 8 * 6 + 1         # the next iteration would need 6 more
    assert res.message.startswith("Maximum number of function evaluations")


@pytest.mark.parametrize("maxfev", [7, 50, 333])
def test_adaptive_mode_counts_every_evaluation_and_keeps_maxfev(maxfev):
    calls = []
    f = lambda x: calls.append(1) or quad(x)
    res = minimize_guided_es(f, np.zeros(3), biased, maxfev=maxfev, rng=0)
    assert res.nfev == len(calls) <= maxfev


def test_ftarget():
    res = minimize_guided_es(quad, np.zeros(3), biased, ftarget=1e-2, rng=0,
                             n_pairs=2)
    assert res.status == Status.FTARGET and res.success
    assert res.nit < 10_000 and res.fun < 2e-2


def test_ftol_stops_a_stalled_run():
    res = minimize_guided_es(quad, np.zeros(3), biased, ftol=1e-6, patience=20,
                             n_pairs=2, rng=0)
    assert res.status == Status.FTOL and res.success
    assert 40 <= res.nit < 2000 and res.fun < 1e-3


def test_xtol_stops_when_steps_vanish():
    res = minimize_guided_es(quad, np.zeros(3), biased, xtol=1e-8, patience=10,
                             n_pairs=2, rng=0)
    assert res.status == Status.XTOL and res.success and res.fun < 1e-12


def test_nonfinite_everywhere_stops():
    res = minimize_guided_es(lambda x: np.nan, np.zeros(3), rng=0)
    assert res.status == Status.NONFINITE and not res.success
    assert res.nit == 10 and np.all(res.x == 0)


def test_partial_nan_never_reaches_the_centre():
    def f(x):
        return np.inf if x[0] > 1.5 else quad(x)

    res = minimize_guided_es(f, np.zeros(3), biased, sigma=1.0, n_pairs=4,
                             maxiter=300, rng=0)
    assert np.all(np.isfinite(res.x)) and np.isfinite(res.fun)
    assert res.status in (Status.MAXITER, Status.CONVERGED)


def test_disp_prints_a_table(capsys):
    minimize_guided_es(quad, np.zeros(3), biased, step="sgd", maxiter=3000, rng=0,
                       disp=True)
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["iter", "nfev", "f", "(centre", "est.)", "sigma",
                              "step"]
    rows = [line.split()[0] for line in out[1:-1]]
    assert rows == ["1", "2", "3"] + [str(i) for i in range(100, 3001, 100)]
    assert out[1].split()[1] == "2" and float(out[1].split()[2]) > 0
    assert out[-1].startswith("   final")


# -- bad input ------------------------------------------------------------------

def test_jac_and_surrogate_together_is_an_error():
    with pytest.raises(ValueError, match="not both"):
        minimize_guided_es(quad, np.zeros(3), biased, jac=biased)


@pytest.mark.parametrize("jac", ["2-point", 3])
def test_jac_must_be_callable_or_true(jac):
    with pytest.raises(TypeError, match="surrogate_grad"):
        minimize_guided_es(quad, np.zeros(3), jac=jac)


def test_unknown_options_warn_by_name():
    with pytest.warns(OptimizeWarning, match="Unknown solver options: foo, gtol"):
        minimize(quad, np.zeros(3), method=minimize_guided_es,
                 options={"foo": 1, "gtol": 1e-3, "maxiter": 2})


def test_hessians_warn_and_constraints_fail():
    with pytest.warns(OptimizeWarning, match="hess"):
        minimize(quad, np.zeros(3), method=minimize_guided_es,
                 hess=lambda x: np.eye(3), options={"maxiter": 2})
    with pytest.raises(ValueError, match="constraints"):
        minimize(quad, np.zeros(3), method=minimize_guided_es,
                 constraints={"type": "eq", "fun": lambda x: x[0]})


@pytest.mark.parametrize("fun, error, match", [
    (lambda x: np.ones(2), ValueError,
     r"real scalar at point 0 of the batch, got ndarray of shape \(2,\)"),
    (lambda x: "a", TypeError, "real scalar"),
    (lambda x: 1 + 2j, TypeError, "real scalar"),
])
def test_fun_returning_non_scalar(fun, error, match):
    with pytest.raises(error, match=match):
        minimize_guided_es(fun, np.zeros(3), maxiter=3, rng=0)


def test_fun_raising_propagates_with_a_note():
    def f(x):
        raise KeyError("boom")

    with pytest.raises(KeyError, match="boom") as info:
        minimize_guided_es(f, np.zeros(3), maxiter=3, rng=0)
    assert any("point 0" in note for note in getattr(info.value, "__notes__", []))


@pytest.mark.parametrize("g, match", [
    (lambda x: np.ones(4), r"surrogate_grad must have shape \(3,\), got shape \(4,\)"),
    (lambda x: np.array([1.0, np.nan, 0.0]), "surrogate_grad must be finite"),
])
def test_bad_surrogate_output(g, match):
    with pytest.raises(ValueError, match=match):
        minimize_guided_es(quad, np.zeros(3), g, maxiter=3, rng=0)


def test_jac_true_with_bad_return():
    with pytest.raises(ValueError, match="pair"):
        minimize_guided_es(quad, np.zeros(3), jac=True, maxiter=3)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(x0=[np.inf, 0.0]), ValueError, "x0 must be finite"),
    (dict(x0=[[0.0]]), ValueError, "1-D"),
    (dict(alpha=2.0), ValueError, "alpha"),
    (dict(sigma=0.0), ValueError, "sigma"),
    (dict(beta=-1.0), ValueError, "beta"),
    (dict(learning_rate=0.0), ValueError, "learning_rate"),
    (dict(n_pairs=0), ValueError, "n_pairs"),
    (dict(subspace_dim=3), ValueError, "subspace_dim"),
    (dict(maxiter=-1), ValueError, "maxiter"),
    (dict(maxfev=0), ValueError, "maxfev"),
    (dict(patience=0), ValueError, "patience"),
    (dict(ftol=-1.0), ValueError, "ftol"),
    (dict(tol=np.nan), ValueError, "tol"),
    (dict(bounds=[(1, 0), (0, 1)]), ValueError, "lower bound exceeds upper"),
    (dict(bounds=[(1, 2), (0, 1)]), ValueError, "x0 must lie inside bounds"),
    (dict(callback=3), TypeError, "callback"),
    (dict(fun=3), TypeError, "fun must be callable"),
])
def test_bad_input(kwargs, error, match):
    kwargs = {"fun": quad, "x0": [0.0, 0.0], "maxiter": 2, **kwargs}
    with pytest.raises(error, match=match):
        minimize_guided_es(kwargs.pop("fun"), kwargs.pop("x0"), **kwargs)


def test_no_warning_for_known_options():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        minimize(quad, np.zeros(2), method=minimize_guided_es, jac=biased,
                 options=dict(sigma=0.1, alpha=0.5, beta=2.0, n_pairs=1,
                              subspace_dim=1, step="sgd", learning_rate=0.1,
                              maxiter=3, maxfev=100, ftarget=None, ftol=None,
                              xtol=None, patience=10, rng=0, disp=False))


def test_vectorized_final_value_uses_a_column():
    calls = []

    def f_cols(X):
        calls.append(X.shape)
        return 0.5 * np.sum((X - 1.0) ** 2, axis=0)

    res = minimize_guided_es(f_cols, np.zeros(3), biased, vectorized=True,
                             n_pairs=2, maxiter=5, step="sgd", rng=0)
    assert calls[-1] == (3, 1) and set(calls[:-1]) == {(3, 4)}
    assert res.fun == pytest.approx(quad(res.x), rel=1e-12)
    with pytest.raises(ValueError, match="vectorized"):
        minimize_guided_es(quad_and_grad, np.zeros(3), jac=True, vectorized=True)


# -- reliability: counts through scipy, extreme settings, early checks ------

class CountingFunAndGrad:
    def __init__(self):
        self.calls = 0

    def __call__(self, x):
        self.calls += 1
        return quad(x), biased(x)


@pytest.mark.parametrize("options", [
    {"n_pairs": 3, "maxfev": 57, "rng": 0},
    {"n_pairs": 4, "maxiter": 500, "rng": 0},
])
def test_scipy_jac_true_counts_every_call_and_keeps_maxfev(options):
    fg = CountingFunAndGrad()
    res = minimize(fg, np.zeros(10), method=minimize_guided_es, jac=True,
                   options=options)
    assert res.nfev == fg.calls
    if "maxfev" in options:
        assert res.nfev <= options["maxfev"]
    direct = CountingFunAndGrad()
    same = minimize_guided_es(direct, np.zeros(10), jac=True, **options)
    assert direct.calls == fg.calls == same.nfev
    assert_array_equal(same.x, res.x)


@pytest.mark.parametrize("metric", ["full", "none"])
def test_jac_true_evaluates_the_centre_once_per_iteration(metric):
    # the adaptive mode asks for f at the centre (with a metric at every
    # iteration, without at the first and after a step taken back);
    # jac=True's call there already gave it: 2P + 1 calls per iteration
    fg = CountingFunAndGrad()
    res = minimize_guided_es(fg, np.zeros(10), jac=True, maxiter=40,
                             metric=metric, rng=0, surrogate_step=False)
    assert res.nit == 40 and res.nfev == fg.calls
    assert 5 * 40 < res.nfev <= 5 * 40 + 2
    # the surrogate step adds its trial points, at most one per iteration
    fg = CountingFunAndGrad()
    res = minimize_guided_es(fg, np.zeros(10), jac=True, maxiter=40,
                             metric=metric, rng=0)
    assert res.nit == 40 and res.nfev == fg.calls
    assert 5 * 40 + 2 < res.nfev <= 6 * 40 + 2


@pytest.mark.parametrize("kwargs, match", [
    (dict(sigma=1e-200), r"sigma must be a finite number in \[1e-100, 1e\+100\], got 1e-200"),
    (dict(sigma=1e-155), r"sigma .* got 1e-155"),
    (dict(sigma=1e154), r"sigma .* got 1e\+154"),
    (dict(sigma=1.01e100), r"sigma"),
    (dict(sigma=0.99e-100), r"sigma"),
    (dict(beta=1e308), r"beta must be a finite number in \(0, 1e\+100\], got 1e\+308"),
    (dict(beta=1.01e100), r"beta"),
])
@pytest.mark.parametrize("step", ["auto", "sgd"])
def test_extreme_sigma_and_beta_are_rejected_by_name(kwargs, match, step):
    with pytest.raises(ValueError, match=match):
        minimize_guided_es(quad, np.zeros(5), biased, step=step, maxiter=5,
                           rng=0, **kwargs)


@pytest.mark.parametrize("kwargs", [dict(sigma=1e-100), dict(sigma=1e100),
                                    dict(beta=1e100), dict(beta=1e-100)])
@pytest.mark.parametrize("step", ["auto", "sgd", "momentum"])
def test_the_ends_of_the_accepted_ranges_run_without_floating_point_errors(kwargs, step):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = minimize_guided_es(quad, np.zeros(5), biased, step=step,
                                 maxiter=50, rng=0, **kwargs)
    assert res.status in set(Status) and np.isfinite(res.x).all()
    assert np.isfinite(res.fun)


@pytest.mark.parametrize("callback", [
    lambda: None,
    lambda a, b: None,
    lambda *, xk: None,
])
def test_callback_that_cannot_take_one_argument_fails_before_the_run(callback):
    calls = []

    def f(x):
        calls.append(1)
        return quad(x)

    with pytest.raises(TypeError, match="callback must accept one argument"):
        minimize_guided_es(f, np.zeros(3), callback=callback, maxiter=3, rng=0)
    assert calls == []


def test_callback_with_defaults_or_varargs_is_accepted():
    seen = []
    minimize_guided_es(quad, np.zeros(3), callback=lambda xk, extra=1: seen.append(1),
                       maxiter=3, rng=0)
    minimize_guided_es(quad, np.zeros(3), callback=lambda *a: seen.append(1),
                       maxiter=3, rng=0)
    assert len(seen) == 6


@pytest.mark.parametrize("disp", ["no", 0.5, None, [1]])
def test_disp_must_be_a_bool_or_an_int(disp):
    with pytest.raises(TypeError, match="disp must be a bool"):
        minimize_guided_es(quad, np.zeros(3), disp=disp, maxiter=2)


@pytest.mark.parametrize("disp", [0, np.False_, False])
def test_disp_false_values_print_nothing(disp, capsys):
    minimize_guided_es(quad, np.zeros(3), disp=disp, maxiter=2, rng=0)
    assert capsys.readouterr().out == ""


def test_disp_one_prints(capsys):
    minimize_guided_es(quad, np.zeros(3), disp=1, maxiter=2, rng=0)
    assert "final" in capsys.readouterr().out


def test_huge_n_pairs_is_refused_before_any_evaluation():
    calls = []
    with pytest.raises(ValueError, match=r"n_pairs=1000000000000000 with n=3 "
                                         r"asks for batches of"):
        minimize_guided_es(lambda x: calls.append(1) or quad(x), np.zeros(3),
                           n_pairs=10**15, maxiter=2)
    assert calls == []


def test_alpha_auto_without_the_rho_estimate_is_an_error():
    with pytest.raises(ValueError, match="estimate_rho=False cannot be combined"):
        minimize_guided_es(quad, np.zeros(3), biased, alpha="auto",
                           estimate_rho=False, maxiter=2)


def test_docstring_lists_the_step_choices_and_statuses():
    doc = minimize_guided_es.__doc__
    assert "{'auto', 'sgd', 'momentum', 'adam'}" in doc
    for status in Status:
        assert f"{status.name}  " in doc, status


@pytest.mark.parametrize("name, suggestion", [
    ("learningrate", "learning_rate"), ("maxiters", "maxiter"),
    ("n_pair", "n_pairs"),
])
def test_misspelled_option_suggests_the_name_and_warns_at_the_callers_line(name, suggestion):
    with pytest.warns(OptimizeWarning,
                      match=f"{name} \\(did you mean '{suggestion}'\\?\\)") as rec:
        minimize_guided_es(quad, np.zeros(3), maxiter=2, rng=0, **{name: 1})
    assert rec[0].filename == __file__
    with pytest.warns(OptimizeWarning,
                      match=f"{name} \\(did you mean '{suggestion}'\\?\\)") as rec:
        minimize(quad, np.zeros(3), method=minimize_guided_es,
                 options={"maxiter": 2, "rng": 0, name: 1})
    assert rec[0].filename == __file__


def test_hess_warning_points_at_the_callers_line():
    with pytest.warns(OptimizeWarning, match="hess") as rec:
        minimize(quad, np.zeros(3), method=minimize_guided_es,
                 hess=lambda x: np.eye(3), options={"maxiter": 2})
    assert rec[0].filename == __file__


def test_maxtime_stops_a_slow_run_with_its_status():
    import time

    def slow(x):
        time.sleep(0.002)
        return quad(x)

    res = minimize_guided_es(slow, np.zeros(3), biased, maxtime=1e-6,
                             maxiter=10**6, rng=0)
    assert res.status == Status.MAXTIME and not res.success
    assert res.message == "The wall-clock budget `maxtime` has been exceeded."
    assert res.nit < 10**6


@pytest.mark.parametrize("maxtime, error", [(0.0, ValueError), (-1.0, ValueError),
                                            ("1", TypeError)])
def test_bad_maxtime(maxtime, error):
    with pytest.raises(error, match="maxtime"):
        minimize_guided_es(quad, np.zeros(3), maxtime=maxtime)


# -- success is judged on f(res.x) ------------------------------------------------

@pytest.mark.parametrize("value", [np.nan, np.inf])
@pytest.mark.parametrize("through_scipy", [False, True])
def test_non_finite_objective_is_never_a_success(value, through_scipy):
    grad = lambda x: (x - 1) + 0.5
    if through_scipy:
        res = minimize(lambda x: value, np.zeros(5), method=minimize_guided_es,
                       jac=grad, tol=1e-8,
                       options={"patience": 5, "rng": 0, "maxiter": 100})
    else:
        res = minimize_guided_es(lambda x: value, np.zeros(5), grad,
                                 maxiter=100, rng=0, tol=1e-8, patience=5)
    assert not res.success and res.status == Status.NONFINITE


@pytest.mark.parametrize("step, sigma, ftargets", [
    ("auto", 0.5, (1e-1, 1e-3, 1e-6)),
    ("sgd", 0.05, (1e-1, 1e-2)),      # a fixed sigma: the estimate's bias stays
])
def test_ftarget_success_means_f_at_res_x_is_below_it(step, sigma, ftargets):
    # the pairs' mean overestimates f for this convex f, the centre decides
    for ftarget in ftargets:
        res = minimize_guided_es(quad, np.zeros(3), biased, ftarget=ftarget,
                                 step=step, sigma=sigma, maxiter=20_000, rng=0)
        assert res.status == Status.FTARGET and res.success
        assert res.fun <= ftarget and res.fun == quad(res.x)


def test_failed_tell_does_not_count_its_pairs_twice():
    # a fixed rate that overflows the centre: the rho estimate and beta
    # are as before the call, and the same values can be told again
    es = GuidedES(np.ones(4), step="sgd", alpha="auto", beta="auto", rng=0)
    es.add_surrogate_grad(np.ones(4))
    es.ask()
    values = [1.7e308, -1.7e308]         # their difference overflows
    seen, beta = es._rho_estimator.n_pairs_seen, es.current_beta
    with pytest.raises(FloatingPointError, match="non-finite centre"):
        es.tell(values)
    assert es._rho_estimator.n_pairs_seen == seen and es.current_beta == beta
    assert es.nit == 0 and es.nfev == 0 and es._pending is not None


@pytest.mark.parametrize("n", [2, 10, 50])
@pytest.mark.parametrize("with_surrogate", [True, False])
def test_a_start_at_a_maximum_moves_off_it(n, with_surrogate):
    # (|x|^2 - 1)^2 from 0, a local maximum where the gradient vanishes:
    # every antithetic difference is zero, the values looked flat, and the
    # run stopped at x0 as converged (success) while every pair was lower
    f = lambda x: float((x @ x - 1.0) ** 2)
    grad = (lambda x: 4.0 * (x @ x - 1.0) * x) if with_surrogate else None
    res = minimize_guided_es(f, np.zeros(n), grad, maxfev=200 * n, rng=0)
    assert res.fun < 1e-20 and res.fun == f(res.x)
    assert res.success


@pytest.mark.parametrize("box, f_min", [((-2.0, 2.0), 0.0), ((0.0, 2.0), 0.0),
                                          ((-0.5, 0.5), 0.25)])
def test_a_start_at_a_maximum_moves_off_it_within_bounds(box, f_min):
    # (pairs that the box does not clip are the centre plus and minus eps,
    # inside the box; in [-0.5, 0.5]^2 the minimum is at a vertex)
    f = lambda x: float((x @ x - 1.0) ** 2)
    res = minimize_guided_es(f, np.zeros(2), bounds=[box] * 2, maxfev=600, rng=0)
    assert res.fun == pytest.approx(f_min, abs=1e-12) and res.fun == f(res.x)


def test_a_saddle_start_reaches_the_minimum():
    f = lambda x: float(x[0] ** 2 - x[1] ** 2 + x[1] ** 4)
    res = minimize_guided_es(f, np.zeros(2), maxfev=2000, rng=0)
    assert res.fun == pytest.approx(-0.25, abs=1e-12)


@pytest.mark.parametrize("x0", [np.zeros(5), np.ones(5)])
def test_an_f_unbounded_below_is_named_as_such(x0):
    # -|x|^2: the steps outgrow sigma, which falls below the precision of x;
    # that stop was reported as a kink (NONSMOOTH), and from 0 as converged
    f = lambda x: -float(x @ x)
    res = minimize_guided_es(f, x0, maxfev=3000, rng=0)
    assert res.status == Status.OVERFLOW and not res.success
    assert res.fun < -1e20 and "unbounded below" in res.message


def test_a_network_whose_weights_all_start_at_zero_trains():
    # a tanh network with every weight zero is a saddle of its loss: its
    # gradient vanishes and f is even in the weights, so every antithetic
    # difference was zero and the run stopped at x0 as converged (success)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 3))
    y = np.sin(X[:, 0]) + 0.5 * X[:, 1]

    def f(w):
        W1, W2 = w[:9].reshape(3, 3), w[9:]
        return float(np.mean((np.tanh(X @ W1) @ W2 - y) ** 2))

    res = minimize_guided_es(f, np.zeros(12), maxfev=3000, rng=0)
    assert res.fun < 0.05 * f(np.zeros(12)) and res.fun == f(res.x)
