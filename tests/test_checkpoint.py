"""minimize_guided_es(checkpoint=...): atomic writes and exact resumes."""

import os
import pickle
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from ges_minimize import Status, minimize_guided_es


def quad(x):
    return 0.5 * float(np.sum((x - 1.0) ** 2))


def biased(x):
    return (x - 1.0) + 0.5


def quad_and_grad(x):
    return quad(x), biased(x)


KW = dict(n_pairs=2, maxiter=60, rng=3)


def same_result(a, b):
    assert_array_equal(a.x, b.x)
    assert a.fun == b.fun and a.nit == b.nit and a.nfev == b.nfev
    assert a.njev == b.njev and a.status == b.status and a.sigma == b.sigma


class Interrupt(Exception):
    pass


def failing_after(calls, fun):
    count = [0]

    def f(x):
        count[0] += 1
        if count[0] > calls:
            raise Interrupt
        return fun(x)
    return f


@pytest.mark.parametrize("kwargs", [
    dict(surrogate_grad=biased),
    dict(surrogate_grad=biased, step="sgd", alpha="auto", ftol=1e-9, patience=5),
    dict(jac=True),
    dict(surrogate_grad=biased, bounds=[(-1, 0.8)] * 4, xtol=1e-12, patience=12),
    dict(self_guided=True, ftarget=1e-4),
    dict(surrogate_grad=biased, nonmonotone=8),
])
@pytest.mark.parametrize("every", [1, 7])
def test_resume_after_an_exception_repeats_the_uninterrupted_run(tmp_path, kwargs, every):
    fun = quad_and_grad if kwargs.get("jac") else quad
    full = minimize_guided_es(fun, np.zeros(4), **KW, **kwargs)
    path = tmp_path / "run.ckpt"
    with pytest.raises(Interrupt):
        minimize_guided_es(failing_after(full.nfev // 2, fun), np.zeros(4), **KW,
                           checkpoint=path, checkpoint_every=every, **kwargs)
    assert path.exists()
    resumed = minimize_guided_es(fun, np.zeros(4), **KW, checkpoint=path,
                                 checkpoint_every=every, **kwargs)
    same_result(resumed, full)
    # the finished run's file gives the same result again, without iterating
    calls = []
    again = minimize_guided_es(lambda x: calls.append(1) or fun(x),
                               np.zeros(4), **KW, checkpoint=path, **kwargs)
    same_result(again, full)
    assert len(calls) <= 2          # the final evaluation(s) only


def test_resume_keeps_the_callback_reading_fun_in_the_count(tmp_path):
    def cb(intermediate_result):
        intermediate_result.fun

    full = minimize_guided_es(quad, np.zeros(4), biased, callback=cb, **KW)
    path = tmp_path / "run.ckpt"
    with pytest.raises(Interrupt):
        minimize_guided_es(failing_after(120, quad), np.zeros(4), biased,
                           callback=cb, checkpoint=path, **KW)
    resumed = minimize_guided_es(quad, np.zeros(4), biased, callback=cb,
                                 checkpoint=path, **KW)
    same_result(resumed, full)


def test_a_larger_maxiter_continues_a_finished_run(tmp_path):
    full = minimize_guided_es(quad, np.zeros(4), biased, n_pairs=2,
                              maxiter=80, rng=3)
    path = tmp_path / "run.ckpt"
    short = minimize_guided_es(quad, np.zeros(4), biased, n_pairs=2,
                               maxiter=40, rng=3, checkpoint=path)
    assert short.nit == 40
    longer = minimize_guided_es(quad, np.zeros(4), biased, n_pairs=2,
                                maxiter=80, rng=3, checkpoint=path)
    assert_array_equal(longer.x, full.x)
    assert longer.nit == full.nit and longer.nfev == full.nfev


@pytest.mark.parametrize("change, name", [
    (dict(x0=np.ones(4)), "x0"),
    (dict(sigma=0.2), "sigma"),
    (dict(n_pairs=3), "n_pairs"),
    (dict(rng=4), "rng"),
    (dict(step="sgd"), "step"),
    (dict(patience=7), "patience"),
    (dict(bounds=[(-5, 5)] * 4), "bounds"),
    (dict(nonmonotone=5), "nonmonotone"),
])
def test_a_checkpoint_of_another_run_is_refused_by_name(tmp_path, change, name):
    path = tmp_path / "run.ckpt"
    base = dict(x0=np.zeros(4), n_pairs=2, maxiter=5, rng=3)
    minimize_guided_es(quad, surrogate_grad=biased, checkpoint=path, **base)
    before = path.read_bytes()
    with pytest.raises(ValueError, match=f"was written by a different run: {name} was"):
        minimize_guided_es(quad, surrogate_grad=biased, checkpoint=path,
                           **{**base, **change})
    assert path.read_bytes() == before


def test_a_checkpoint_in_a_missing_directory_is_refused_before_any_evaluation(tmp_path):
    calls = []

    def f(x):
        calls.append(1)
        return float(x @ x)

    path = tmp_path / "missing" / "run.pkl"
    with pytest.raises(FileNotFoundError, match="not an existing directory"):
        minimize_guided_es(f, np.ones(3), checkpoint=path, maxfev=100)
    assert calls == []


def test_a_file_that_is_not_a_checkpoint_is_refused(tmp_path):
    path = tmp_path / "other.pkl"
    path.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(ValueError, match="is not a checkpoint of minimize_guided_es"):
        minimize_guided_es(quad, np.zeros(3), checkpoint=path, maxiter=2)
    path.write_text("garbage")
    with pytest.raises(ValueError, match="could not be read as a checkpoint"):
        minimize_guided_es(quad, np.zeros(3), checkpoint=path, maxiter=2)


@pytest.mark.parametrize("every, error", [(0, ValueError), (1.5, TypeError)])
def test_bad_checkpoint_every(tmp_path, every, error):
    with pytest.raises(error, match="checkpoint_every"):
        minimize_guided_es(quad, np.zeros(3), checkpoint=tmp_path / "c",
                           checkpoint_every=every, maxiter=2)


def test_keyboard_interrupt_propagates_and_the_checkpoint_is_on_disk(tmp_path):
    full = minimize_guided_es(quad, np.zeros(4), biased, **KW)
    path = tmp_path / "run.ckpt"

    def cb(xk, seen=[]):
        seen.append(1)
        if len(seen) == 25:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        minimize_guided_es(quad, np.zeros(4), biased, callback=cb,
                           checkpoint=path, **KW)
    resumed = minimize_guided_es(quad, np.zeros(4), biased, checkpoint=path, **KW)
    same_result(resumed, full)
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


SCRIPT = textwrap.dedent("""
    import os, sys
    import numpy as np
    from ges_minimize import minimize_guided_es

    path, marker = sys.argv[1], sys.argv[2]
    count = [0]

    def f(x):
        count[0] += 1
        if count[0] == 150:
            open(marker, "w").close()          # tell the parent to kill us
            while True:
                pass
        return 0.5 * float(np.sum((x - 1.0) ** 2))

    res = minimize_guided_es(f, np.zeros(4), lambda x: (x - 1.0) + 0.5,
                             n_pairs=2, maxiter=100, rng=3, checkpoint=path)
""")


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_resume_after_sigkill_is_bit_for_bit(tmp_path):
    path, marker = tmp_path / "run.ckpt", tmp_path / "marker"
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, str(script), str(path), str(marker)],
                            env=env)
    try:
        while not marker.exists():
            if proc.poll() is not None:
                pytest.fail(f"the child exited with {proc.returncode}")
            try:
                proc.wait(timeout=0.05)
            except subprocess.TimeoutExpired:
                pass
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert path.exists()
    full = minimize_guided_es(quad, np.zeros(4), biased, n_pairs=2,
                              maxiter=100, rng=3)
    resumed = minimize_guided_es(quad, np.zeros(4), biased, n_pairs=2,
                                 maxiter=100, rng=3, checkpoint=path)
    same_result(resumed, full)
    assert full.nit == 100 and full.status == Status.MAXITER
