"""Parallel, distributed and vectorized evaluation (`BatchEvaluator`).

A seeded run must give the same ``x``, ``fun`` and ``nfev``, bit for bit,
whatever evaluates the points: serial, loky processes, threads, a real
``dask.distributed`` cluster, a vectorized ``fun``. Faults in workers must
reach the caller with the failing point named and leave the optimizer able
to carry on.
"""

import concurrent.futures.process
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from joblib import parallel_config

from ges_minimize import GuidedES, minimize_guided_es
from ges_minimize._evaluate import BatchEvaluator, evaluate_batch

ROOT = Path(__file__).resolve().parents[1]
N = 12
RUN = dict(n_pairs=3, sigma=0.1, learning_rate=0.1, maxiter=12,
           bounds=[(-0.5, 2.0)] * N, rng=7)


# Module-level functions, so that worker processes can unpickle them.
def objective(x):
    return float(np.sum((x - 1.0) ** 2) + 0.1 * np.sum(np.cos(5.0 * x)))


def objective_vectorized(x):
    """`objective` for x of shape (n, S), one point per column."""
    return np.sum((x - 1.0) ** 2, axis=0) + 0.1 * np.sum(np.cos(5.0 * x), axis=0)


def surrogate(x, *args):
    return 2.0 * (x - 1.0) + 0.3


def nan_right_of(x, edge):
    """`objective`, but NaN where x[0] > edge and inf where x[1] > edge."""
    if x[0] > edge:
        return np.nan
    if x[1] > edge:
        return np.inf
    return objective(x)


def fail_at(x, bad_point):
    if np.array_equal(x, bad_point):
        raise KeyError("cannot evaluate here")
    return objective(x)


def die_at(x, parent_pid, bad_point):
    """Kill the worker process evaluating `bad_point` (never the tests)."""
    if np.array_equal(x, bad_point) and os.getpid() != parent_pid:
        os._exit(3)
    return objective(x)


def sum_all(x):
    """A wrong vectorized fun: one number for the whole batch."""
    return np.sum(x ** 2)


def memmap_flag(x, data):
    """1.0 when `data` arrived as a memory map, else 0.0."""
    return float(isinstance(data, np.memmap))


def first_entry(x, data):
    return float(x[0] + data[0, 0])


@pytest.fixture(scope="module")
def reference():
    return minimize_guided_es(objective, np.zeros(N), surrogate, **RUN)


@pytest.fixture(scope="module")
def dask_client():
    """A real dask cluster of two worker processes (threads if impossible)."""
    distributed = pytest.importorskip("distributed")
    import dask
    # A worker that dies fails its task at once rather than after retries.
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        try:
            cluster = distributed.LocalCluster(
                n_workers=2, processes=True, threads_per_worker=1,
                dashboard_address=None)
        except Exception as exc:       # no subprocesses on this machine
            warnings.warn(f"process-based LocalCluster failed ({exc!r}); "
                          "using an in-process cluster")
            cluster = distributed.LocalCluster(
                n_workers=2, processes=False, threads_per_worker=1,
                dashboard_address=None)
    client = distributed.Client(cluster)
    client.wait_for_workers(2, timeout=60)
    yield client
    client.close()
    cluster.close()


def assert_same_run(res, reference):
    np.testing.assert_array_equal(res.x, reference.x)
    np.testing.assert_equal(res.fun, reference.fun)       # NaN equals NaN
    assert res.nfev == reference.nfev
    assert res.nit == reference.nit


# -- identical results ---------------------------------------------------------

@pytest.mark.parametrize("config, options", [
    ({}, dict(n_jobs=1)),
    ({}, dict(n_jobs=2)),
    (dict(backend="threading", n_jobs=2), {}),
    ({}, dict(vectorized=True)),
    ({}, dict(vectorized=True, n_jobs=2)),
    (dict(backend="threading"), dict(vectorized=True, n_jobs=3)),
], ids=["n_jobs=1", "loky-2", "threading-2", "vectorized", "vectorized-loky-2",
        "vectorized-threading-3"])
def test_same_run_whatever_evaluates(reference, config, options):
    fun = objective_vectorized if options.get("vectorized") else objective
    with parallel_config(**config):
        res = minimize_guided_es(fun, np.zeros(N), surrogate, **RUN, **options)
    assert_same_run(res, reference)


def test_same_run_on_dask(reference, dask_client):
    with parallel_config(backend="dask"):
        with BatchEvaluator(objective) as evaluate:
            assert (evaluate.backend, evaluate.n_workers) == ("dask", 2)
        res = minimize_guided_es(objective, np.zeros(N), surrogate, **RUN)
        res_vec = minimize_guided_es(objective_vectorized, np.zeros(N),
                                     surrogate, vectorized=True, **RUN)
    assert_same_run(res, reference)
    assert_same_run(res_vec, reference)


@pytest.mark.parametrize("config, n_jobs, expected", [
    ({}, None, ("serial", 1)),
    ({}, 1, ("serial", 1)),
    ({}, 2, ("loky", 2)),
    (dict(n_jobs=2), None, ("loky", 2)),
    (dict(n_jobs=2), 1, ("serial", 1)),
    (dict(backend="threading"), None, ("serial", 1)),
    (dict(backend="threading"), 2, ("threading", 2)),
    (dict(backend="sequential"), 2, ("serial", 1)),
])
def test_which_backend(config, n_jobs, expected):
    """n_jobs=None is serial unless a parallel_config asks for workers."""
    with parallel_config(**config):
        evaluator = BatchEvaluator(objective, n_jobs=n_jobs)
        with evaluator:
            assert (evaluator.backend, evaluator.n_workers) == expected
            points = np.random.default_rng(0).standard_normal((5, N))
            np.testing.assert_array_equal(evaluator(points),
                                          evaluate_batch(objective, points))


def test_chunks_cover_the_batch_in_order():
    """Fewer points than workers, and uneven chunks, keep the order."""
    points = np.random.default_rng(1).standard_normal((7, N))
    expected = evaluate_batch(objective, points)
    with parallel_config(backend="threading", n_jobs=3):
        for size in (1, 2, 7):
            with BatchEvaluator(objective) as evaluate:
                np.testing.assert_array_equal(evaluate(points[:size]),
                                              expected[:size])


def test_per_call_args_replace_the_fixed_ones():
    points = np.ones((4, N))
    with parallel_config(backend="threading", n_jobs=2):
        with BatchEvaluator(first_entry, (np.full((2, 2), 1.0),)) as evaluate:
            np.testing.assert_array_equal(evaluate(points), 2.0)
            np.testing.assert_array_equal(
                evaluate(points, args=(np.full((2, 2), 5.0),)), 6.0)
            np.testing.assert_array_equal(evaluate(points), 2.0)


# -- large arguments are not sent again at every call ---------------------------

def test_large_array_reaches_loky_workers_memory_mapped():
    data = np.arange(200_000.0).reshape(400, 500)     # 1.6 MB > 1 MB
    points = np.zeros((4, N))
    with BatchEvaluator(memmap_flag, (data,), n_jobs=2) as evaluate:
        assert evaluate.backend == "loky"
        for _ in range(2):
            np.testing.assert_array_equal(evaluate(points), 1.0)
    assert memmap_flag(points[0], data) == 0.0


def test_dask_sends_fun_and_args_once(dask_client):
    data = np.ones((400, 500))
    points = np.zeros((4, N))
    with parallel_config(backend="dask"):
        with BatchEvaluator(first_entry, (data,)) as evaluate:
            evaluate(points)
            shared = evaluate._runner.shared
            for _ in range(3):
                np.testing.assert_array_equal(evaluate(points), 1.0)
            assert evaluate._runner.shared is shared
            assert shared.key in dask_client.who_has()
        assert evaluate._runner is None


# -- faults --------------------------------------------------------------------

def fresh_es():
    # the fixed-rate rule: its asks are exactly the 2P = 6 points (the
    # adaptive mode adds the centre at its first iteration)
    es = GuidedES(np.zeros(N), n_pairs=3, step="sgd", rng=3)
    es.add_surrogate_grad(surrogate(es.x))
    return es


@pytest.mark.parametrize("config", [
    dict(backend="threading", n_jobs=2), dict(n_jobs=2), "dask"])
def test_exception_in_worker_names_the_point(config, request):
    if config == "dask":
        request.getfixturevalue("dask_client")
        config = dict(backend="dask")
    es = fresh_es()
    points = es.ask()
    with parallel_config(**config):
        with BatchEvaluator(fail_at, (points[4],)) as evaluate:
            with pytest.raises(KeyError, match="cannot evaluate here") as info:
                evaluate(points)
            notes = "\n".join(getattr(info.value, "__notes__", []))
            if sys.version_info >= (3, 11):
                assert "point 4 of the batch" in notes
                assert np.array2string(points[4], threshold=8) in notes
            # Nothing was told: the same points are pending, and a fixed
            # objective resumes the run exactly as if nothing had failed.
            np.testing.assert_array_equal(es.ask(), points)
            values = evaluate(points, args=(np.full(N, np.nan),))
    np.testing.assert_array_equal(values, evaluate_batch(objective, points))
    es.tell(values)
    twin = fresh_es()
    twin.tell(evaluate_batch(objective, twin.ask()))
    np.testing.assert_array_equal(es.x, twin.x)


class NeedsTwoArguments(Exception):
    """An exception that pickles but cannot be unpickled."""

    def __init__(self, code, detail):
        super().__init__(f"{code}: {detail}")


def raise_needs_two(x):
    raise NeedsTwoArguments(7, "solver diverged")


def test_exception_that_cannot_travel_back():
    points = np.zeros((4, N))
    with BatchEvaluator(raise_needs_two, n_jobs=2) as evaluate:
        with pytest.raises(RuntimeError, match="NeedsTwoArguments: 7: solver "
                           "diverged .*cannot be pickled") as info:
            evaluate(points)
    if sys.version_info >= (3, 11):
        assert "point 0 of the batch" in "\n".join(info.value.__notes__)
    with parallel_config(backend="threading", n_jobs=2):   # no pickling
        with BatchEvaluator(raise_needs_two) as evaluate:
            with pytest.raises(NeedsTwoArguments):
                evaluate(points)


def test_bad_value_in_worker_names_the_point():
    points = np.zeros((4, N))
    with BatchEvaluator(lambda x: "text", n_jobs=2) as evaluate:
        # Two chunks, points 0-1 and 2-3: either first failure may arrive.
        with pytest.raises(TypeError, match="real scalar at point [02] of"):
            evaluate(points)
    with parallel_config(backend="threading", n_jobs=2):
        with BatchEvaluator(lambda x: [1.0, 2.0]) as evaluate:
            with pytest.raises(ValueError, match=r"at point [0-3] of the batch"):
                evaluate(points)


@pytest.mark.parametrize("backend", ["loky", "threading", "dask"])
def test_non_finite_values_as_in_serial(backend, request):
    if backend == "dask":
        request.getfixturevalue("dask_client")
        config = dict(backend="dask")
    else:
        config = dict(backend=backend, n_jobs=2)
    options = dict(args=(0.12,), n_pairs=4, maxiter=10, rng=11)
    serial = minimize_guided_es(nan_right_of, np.zeros(N), surrogate, **options)
    es = fresh_es()
    points = es.ask()
    points[1, 0] = points[2, 1] = 1.0
    points[2, 0] = 0.0
    with parallel_config(**config):
        res = minimize_guided_es(nan_right_of, np.zeros(N), surrogate, **options)
        with BatchEvaluator(nan_right_of, (0.12,)) as evaluate:
            values = evaluate(points)
    assert_same_run(res, serial)
    assert res.status == serial.status
    np.testing.assert_array_equal(values,
                                  evaluate_batch(nan_right_of, points, (0.12,)))
    assert np.isnan(values[1]) and np.isposinf(values[2])


def test_killed_loky_worker_raises_and_state_survives():
    es = fresh_es()
    points = es.ask()
    with BatchEvaluator(die_at, (os.getpid(), points[4]), n_jobs=2) as evaluate:
        assert evaluate.backend == "loky"
        with pytest.raises(concurrent.futures.process.BrokenProcessPool) as info:
            evaluate(points)
        if sys.version_info >= (3, 11):
            assert "worker process of the loky backend died" in "\n".join(
                info.value.__notes__)
        np.testing.assert_array_equal(es.ask(), points)
        # The same evaluator recovers (loky starts new workers).
        values = evaluate(points, args=(os.getpid(), None))
    np.testing.assert_array_equal(values, evaluate_batch(objective, points))
    es.tell(values)
    assert es.nit == 1


def test_killed_dask_worker_raises_and_state_survives(dask_client):
    from distributed import KilledWorker
    es = fresh_es()
    points = es.ask()
    with parallel_config(backend="dask"):
        with BatchEvaluator(die_at, (os.getpid(), points[4])) as evaluate:
            with pytest.raises(KilledWorker) as info:
                evaluate(points)
            if sys.version_info >= (3, 11):
                # Two chunks of three points: point 4 is in the second.
                assert ("dask workers died while evaluating fun at one of "
                        "points 3 to 5 of the batch") in "\n".join(
                            info.value.__notes__)
            np.testing.assert_array_equal(es.ask(), points)
            # The other worker, or the one the nanny restarts, carries on.
            values = evaluate(points, args=(os.getpid(), None))
    np.testing.assert_array_equal(values, evaluate_batch(objective, points))


# -- a dask cluster of one worker -------------------------------------------------

def not_in(x, client_pid):
    """`objective`, but refuse to run in the client process."""
    if os.getpid() == client_pid:
        raise RuntimeError("evaluated in the client process")
    return objective(x)


def exit_always(x):
    os._exit(1)


@pytest.fixture(scope="module")
def one_worker_client():
    """One worker process, the scheduler's default retries, not the default
    client (the other dask tests use `dask_client` through get_client)."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=1, processes=True,
                                       threads_per_worker=1,
                                       dashboard_address=None)
    client = distributed.Client(cluster, set_as_default=False)
    client.wait_for_workers(1, timeout=60)
    yield client
    client.close()
    cluster.close()


def test_one_dask_worker_evaluates_every_point(one_worker_client):
    """joblib.Parallel runs in the caller when the cluster has one thread."""
    points = np.random.default_rng(2).standard_normal((6, N))
    with parallel_config(backend="dask", client=one_worker_client):
        with BatchEvaluator(not_in, (os.getpid(),)) as evaluate:
            assert (evaluate.backend, evaluate.n_workers) == ("dask", 1)
            np.testing.assert_array_equal(evaluate(points),
                                          evaluate_batch(objective, points))
        with BatchEvaluator(not_in, (os.getpid(),), n_jobs=3) as evaluate:
            assert (evaluate.backend, evaluate.n_workers) == ("dask", 3)
            np.testing.assert_array_equal(evaluate(points),
                                          evaluate_batch(objective, points))
        # Only an explicit n_jobs=1 (argument or config) stays in the caller.
        with BatchEvaluator(objective, n_jobs=1) as evaluate:
            assert evaluate.backend == "serial"
    with parallel_config(backend="dask", client=one_worker_client, n_jobs=1):
        with BatchEvaluator(objective) as evaluate:
            assert evaluate.backend == "serial"


def test_one_dask_worker_runs_the_whole_minimisation(one_worker_client,
                                                     reference):
    with parallel_config(backend="dask", client=one_worker_client):
        res = minimize_guided_es(not_in, np.zeros(N), surrogate,
                                 **{**RUN, "args": (os.getpid(),)})
    assert_same_run(res, reference)


def test_worker_that_keeps_dying_names_the_points(one_worker_client):
    """The nanny restarts the worker, the scheduler retries, then gives up."""
    from distributed import KilledWorker
    points = np.random.default_rng(2).standard_normal((6, N))
    with parallel_config(backend="dask", client=one_worker_client):
        with BatchEvaluator(exit_always) as evaluate:
            with pytest.raises(KilledWorker, match="on 4 different workers") \
                    as info:
                evaluate(points)
            if sys.version_info >= (3, 11):
                assert ("dask workers died while evaluating fun at one of "
                        "points 0 to 5 of the batch") in "\n".join(
                            info.value.__notes__)
            with pytest.raises(KilledWorker) as info:
                evaluate(points[3:4])
            if sys.version_info >= (3, 11):
                assert ("while evaluating fun at point 0 of the batch, x = "
                        + np.array2string(points[3], threshold=8)) in \
                    "\n".join(info.value.__notes__)
        # We are alive, and right after the deaths the next run goes to the
        # restarted worker, not to this process.
        with BatchEvaluator(not_in, (os.getpid(),)) as evaluate:
            np.testing.assert_array_equal(evaluate(points),
                                          evaluate_batch(objective, points))


# -- bad input -------------------------------------------------------------------

@pytest.mark.parametrize("n_jobs, error, match", [
    (0, ValueError, "n_jobs must be None, a positive .* got 0"),
    (1.5, TypeError, "n_jobs must be None or an integer, got 1.5"),
    (True, TypeError, "n_jobs must be None or an integer, got True"),
    ("2", TypeError, "n_jobs must be None or an integer, got '2'"),
])
def test_bad_n_jobs(n_jobs, error, match):
    with pytest.raises(error, match=match):
        BatchEvaluator(objective, n_jobs=n_jobs)
    with pytest.raises(error, match=match):
        minimize_guided_es(objective, np.zeros(3), n_jobs=n_jobs, maxiter=1)


def test_bad_vectorized_flag_and_fun():
    with pytest.raises(TypeError, match="vectorized must be True or False, got 'yes'"):
        BatchEvaluator(objective, vectorized="yes")
    with pytest.raises(TypeError, match="fun must be callable, got 3"):
        BatchEvaluator(3)


@pytest.mark.parametrize("n_jobs", [None, 2])
def test_vectorized_fun_of_wrong_shape(n_jobs):
    config = {} if n_jobs is None else dict(backend="threading")
    with parallel_config(**config):
        with pytest.raises(ValueError, match=r"must return a real array of "
                           r"shape \(S,\); for x of shape \(12, [36]\) .* "
                           r"shape \(\)"):
            minimize_guided_es(sum_all, np.zeros(N), surrogate, n_jobs=n_jobs,
                               vectorized=True, **RUN)


def test_points_must_be_a_matrix():
    with BatchEvaluator(objective) as evaluate:
        with pytest.raises(ValueError, match=r"shape \(S, n\).* got shape \(12,\)"):
            evaluate(np.zeros(N))
        assert evaluate(np.zeros((0, N))).shape == (0,)


def test_unpicklable_fun_on_loky_suggests_threads():
    import pickle
    import threading

    class Locked:
        def __init__(self):
            self.lock = threading.Lock()

        def __call__(self, x):
            return 0.0

    with BatchEvaluator(Locked(), n_jobs=2) as evaluate:
        with pytest.raises(pickle.PicklingError) as info:
            evaluate(np.zeros((4, N)))
    if sys.version_info >= (3, 11):
        assert "backend='threading'" in "\n".join(info.value.__notes__)
    with parallel_config(backend="threading"):
        with BatchEvaluator(Locked(), n_jobs=2) as evaluate:
            np.testing.assert_array_equal(evaluate(np.zeros((4, N))), 0.0)


# -- the example ------------------------------------------------------------------

def test_dask_example_runs_quickly(dask_client):
    """The example, on the test cluster (its own cluster costs a start-up)."""
    dask_client.wait_for_workers(2, timeout=60)
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "dask_cluster.py"), "--quick",
         "--scheduler", dask_client.scheduler.address],
        capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "identical to the serial run: True" in out.stdout
