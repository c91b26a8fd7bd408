"""Evaluation of the objective at a batch of points.

One iteration of Guided ES asks for ``f`` at ``2P`` independent points.
`BatchEvaluator` computes them serially, with one call of a vectorized
``fun``, or spread over workers through joblib (any backend chosen with
``joblib.parallel_config``, including dask). Every random number is drawn by
the caller: workers only receive points, so the values, and therefore a
whole seeded run, do not depend on how they were computed.
"""

import concurrent.futures
import concurrent.futures.process
import numbers
import pickle
import traceback

import joblib
import numpy as np
from joblib.parallel import get_active_backend

try:                    # what loky and dask pickle with, when installed
    import cloudpickle
except ImportError:     # pragma: no cover
    cloudpickle = pickle

__all__ = ["BatchEvaluator", "evaluate_batch", "evaluate_vectorized",
           "as_scalar"]


def as_scalar(value, index=None, point=None):
    """The float in a value returned by ``fun``, or a clear error.

    Parameters
    ----------
    value : object
        What ``fun`` returned.
    index : int, optional
        Index of the point in its batch, named in the error.
    point : ndarray, optional
        The point itself, whose coordinates the error shows.

    Returns
    -------
    float

    Raises
    ------
    TypeError
        If `value` is not a real number: a complex number, a string (even
        one that reads as a number), None, or an object array.
    ValueError
        If `value` is a real array with more or fewer than one element.
    """
    if isinstance(value, numbers.Real) and not isinstance(value, np.generic):
        return float(value)              # int, float, bool, Fraction, ...
    try:
        arr = np.asarray(value)
    except Exception:  # pragma: no cover - exotic objects
        arr = None
    if arr is not None and arr.dtype.kind in "biuf" and arr.size == 1:
        return float(arr.reshape(()))
    # the message is built only here, on the way to an error: formatting the
    # point costs far more than an evaluation of a cheap fun
    where = "" if index is None else f" at point {index} of the batch"
    at = ("" if point is None else
          f" (x = {np.array2string(np.asarray(point), threshold=8)})")
    if arr is None or arr.dtype.kind not in "biuf":
        kind = type(value).__name__
        if arr is not None and arr.shape != ():
            kind += f" of dtype {arr.dtype}"
        raise TypeError(
            f"fun must return a real scalar{where}, got {kind}: "
            f"{value!r:.80}{at}")
    raise ValueError(
        f"fun must return a real scalar{where}, got {type(value).__name__}"
        f" of shape {arr.shape}: {value!r:.80}{at}")


def _note(exc, text):
    """Attach `text` to `exc` (shown under its message; Python >= 3.11)."""
    if hasattr(exc, "add_note"):
        exc.add_note(text)


def evaluate_batch(fun, points, args=(), start=0):
    """``fun(p, *args)`` for each row ``p`` of `points`, serially.

    Parameters
    ----------
    fun : callable
        ``fun(x, *args) -> float``.
    points : ndarray, shape (S, n)
    args : tuple
    start : int, default 0
        Index of ``points[0]`` in the whole batch, used in error messages
        when `points` is one chunk of a larger batch.

    Returns
    -------
    values : ndarray, shape (S,)

    Raises
    ------
    TypeError
        If `fun` returns something other than a real number (a complex
        number, a string, None, ...).
    ValueError
        If `fun` returns a real array with more than one element.
    Exception
        Whatever `fun` raises, unchanged but for a note naming the point.
    """
    values = np.empty(len(points))
    for i, point in enumerate(points):
        try:
            value = fun(point, *args)
        except Exception as exc:
            _note(exc, f"raised by fun at point {start + i} of the batch: "
                       f"{np.array2string(point, threshold=8)}")
            raise
        values[i] = as_scalar(value, start + i, point)
    return values


def evaluate_vectorized(fun, points, args=(), start=0):
    """``fun(points.T, *args)``: all rows of `points` in one call.

    The convention of ``scipy.optimize.differential_evolution(vectorized=
    True)``: `fun` receives ``x`` of shape ``(n, S)``, one point per column,
    and returns an array of shape ``(S,)``.

    Parameters
    ----------
    fun : callable
        ``fun(x, *args) -> ndarray (S,)`` for ``x`` of shape ``(n, S)``.
    points : ndarray, shape (S, n)
        C-contiguous, so that ``x = points.T`` holds each point as a
        contiguous column.
    args : tuple
    start : int, default 0
        Index of ``points[0]`` in the whole batch, for error messages.

    Returns
    -------
    values : ndarray, shape (S,)

    Raises
    ------
    TypeError
        If `fun` returns values that are not real numbers (complex,
        strings, objects).
    ValueError
        If `fun` returns a real array of a shape other than ``(S,)``.
    Exception
        Whatever `fun` raises, unchanged but for a note naming the points.
    """
    n_points = len(points)
    x = points.T
    try:
        out = fun(x, *args)
    except Exception as exc:
        _note(exc, f"raised by the vectorized fun on points {start} to "
                   f"{start + n_points - 1} of the batch (x of shape "
                   f"{x.shape})")
        raise
    values = np.asarray(out)
    if values.dtype.kind not in "biuf" or values.shape != (n_points,):
        error = TypeError if values.dtype.kind not in "biuf" else ValueError
        raise error(
            "with vectorized=True, fun(x) for x of shape (n, S) must return "
            f"a real array of shape (S,); for x of shape {x.shape} "
            f"(points {start} to {start + n_points - 1} of the batch) it "
            f"returned {type(out).__name__} of dtype {values.dtype} and "
            f"shape {values.shape}")
    return values.astype(float)


class _ChunkTask:
    """The work sent to a worker: ``fun`` at a contiguous chunk of points.

    Picklable whenever `fun` and `args` are; holds no random state.
    """

    def __init__(self, fun, args, vectorized):
        self.fun = fun
        self.args = args
        self.vectorized = vectorized

    def __call__(self, start, points, args=None):
        args = self.args if args is None else args
        evaluate = evaluate_vectorized if self.vectorized else evaluate_batch
        return evaluate(self.fun, points, args, start)


class _Failure:
    """An exception raised by `fun` in a worker, sent back as a result.

    Returning it, rather than raising, lets the other chunks finish and
    keeps the worker pool: joblib replaces all loky workers after a task
    raises, which costs seconds per exception.
    """

    def __init__(self, exc):
        self.exc = exc
        self.traceback = "".join(traceback.format_exception(exc))

    def __getstate__(self):
        """Replace an exception that would not survive the trip back."""
        state = dict(self.__dict__)
        try:
            pickle.loads(cloudpickle.dumps(self.exc))
        except Exception:
            exc = RuntimeError(f"{type(self.exc).__qualname__}: {self.exc} "
                               "(an exception that cannot be pickled, "
                               "replaced by this RuntimeError)")
            for text in getattr(self.exc, "__notes__", []):
                _note(exc, text)
            state["exc"] = exc
        return state

    def reraise(self):
        raise self.exc from _RemoteTraceback(self.traceback)


class _RemoteTraceback(Exception):
    """The traceback of an exception raised in a worker, as text."""

    def __str__(self):
        return "\n" + self.args[0]


def _run_chunk(task, start, points, args):
    """`task` at one chunk, or the `_Failure` it raised (runs in a worker)."""
    try:
        return task(start, points, args)
    except Exception as exc:
        return _Failure(exc)


def _join(parts):
    """The values of all chunks, in order; raise the first chunk's failure."""
    for part in parts:
        if isinstance(part, _Failure):
            part.reraise()
    return np.concatenate(parts)


def _chunks(points, n_workers):
    """(start, rows) for about equal contiguous chunks, one per worker."""
    bounds = np.linspace(0, len(points), min(n_workers, len(points)) + 1)
    bounds = np.round(bounds).astype(int)
    return [(int(a), points[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]


class _Serial:
    """Evaluates in the calling process."""

    name = "serial"
    n_workers = 1

    def __init__(self, task):
        self.task = task

    def run(self, points, args):
        return self.task(0, points, args)

    def close(self):
        pass


class _Joblib:
    """One `joblib.Parallel` kept open for the life of the evaluator.

    Keeping it open keeps the worker pool warm and lets joblib memory-map a
    large numpy array (``> max_nbytes``, 1 MB by default) once for the
    whole run instead of pickling it into every task.
    """

    def __init__(self, task, n_jobs, backend, n_workers):
        self.task = task
        self.name = type(backend).__name__.removesuffix("Backend").lower()
        self.n_workers = n_workers
        # One task per worker: no joblib auto-batching, everything at once.
        self.parallel = joblib.Parallel(n_jobs=n_jobs, batch_size=1,
                                        pre_dispatch="all")
        self.parallel.__enter__()

    def run(self, points, args):
        delayed = joblib.delayed(_run_chunk)
        try:
            parts = self.parallel(delayed(self.task, start, rows, args)
                                  for start, rows
                                  in _chunks(points, self.n_workers))
        except concurrent.futures.process.BrokenProcessPool as exc:
            _note(exc, f"a worker process of the {self.name} backend died "
                       f"while evaluating fun at a batch of {len(points)} "
                       "points (a crash in compiled code, os._exit, or the "
                       "system killing it, often for lack of memory); no "
                       "value of this batch was used, so the optimizer "
                       "state is unchanged and the points can be evaluated "
                       "again")
            raise
        except pickle.PicklingError as exc:
            _note(exc, f"fun and args must be picklable to run on the "
                       f"{self.name} backend's worker processes; a fun that "
                       "holds a lock, an open file or a connection can run "
                       "on threads instead: joblib.parallel_config("
                       "backend='threading')")
            raise
        return _join(parts)

    def close(self):
        self.parallel.__exit__(None, None, None)


def _identity(task):
    """`task` itself: computed once on a worker, then shared by the others."""
    return task


class _Dask:
    """Chunks submitted to the ``distributed.Client`` of joblib's dask backend.

    The task (``fun`` and ``args``) is sent to the cluster once, with the
    first batch, as the result of a small task that the workers share; later
    batches send only the points. Unlike scattered data, that result can be
    computed again if the workers holding it die, so the scheduler retries a
    chunk whose worker died (``distributed.scheduler.allowed-failures``
    times) and then raises ``KilledWorker`` naming it.
    Submitting to the client directly, rather than through
    `joblib.Parallel`, avoids joblib re-scattering large arguments at every
    call, its hang when a worker dies (the scheduler's ``KilledWorker``
    error never reaches `joblib.Parallel`) and its running the tasks in the
    calling process when the cluster has a single worker thread.
    """

    name = "dask"

    def __init__(self, task, n_jobs, backend):
        self.task = task
        self.client = backend.client
        self.submit_kwargs = dict(getattr(backend, "submit_kwargs", {}))
        cores = backend.effective_n_jobs(n_jobs)   # waits for a first worker
        n_workers = n_jobs if n_jobs is not None and n_jobs > 0 else cores
        self.n_workers = max(1, n_workers)
        self.shared = None

    def run(self, points, args):
        if self.shared is None:
            self.shared = self.client.submit(_identity, self.task, pure=False,
                                             **self.submit_kwargs)
        chunks = _chunks(points, self.n_workers)
        # A loose placement, one chunk per worker: the scheduler would
        # otherwise send every chunk to the worker holding `shared`.
        workers = ([] if "workers" in self.submit_kwargs else   # user's
                   sorted(self.client.scheduler_info()["workers"]))
        futures = [self.client.submit(
            _run_chunk, self.shared, start, rows, args, pure=False,
            **_placement(workers, i), **self.submit_kwargs)
            for i, (start, rows) in enumerate(chunks)]
        try:
            parts = self.client.gather(futures)
        except BaseException as exc:
            if type(exc).__name__ == "KilledWorker":
                lost = [_describe_chunk(*chunk) for chunk, future
                        in zip(chunks, futures)
                        if future.key == exc.task or _killed(future)]
                where = " or ".join(lost) or f"a batch of {len(points)} points"
                _note(exc, f"dask workers died while evaluating fun at "
                           f"{where}; no value of this batch was used, so "
                           "the optimizer state is unchanged and the points "
                           "can be evaluated again")
            elif isinstance(exc, concurrent.futures.CancelledError):
                _note(exc, "the dask cluster dropped the evaluation of fun "
                           f"at a batch of {len(points)} points (workers "
                           "lost or the cluster restarted); no value of this "
                           "batch was used, so the optimizer state is "
                           "unchanged and the points can be evaluated again")
            self.client.cancel(futures + [self.shared])
            self.shared = None              # send the task again next time
            raise
        return _join(parts)

    def close(self):
        if self.shared is not None:
            self.shared.release()
            self.shared = None


def _placement(workers, i):
    """Prefer the i-th worker (cyclically), if any is connected."""
    if not workers:
        return {}
    return dict(workers=workers[i % len(workers)], allow_other_workers=True)


def _killed(future):
    """Whether a dask future failed because its workers died."""
    return (future.status == "error"
            and type(future.exception()).__name__ == "KilledWorker")


def _describe_chunk(start, rows):
    """'point 4 of the batch, x = [...]' or 'points 4 to 7 of the batch'."""
    if len(rows) == 1:
        return (f"point {start} of the batch, x = "
                f"{np.array2string(rows[0], threshold=8)}")
    return f"one of points {start} to {start + len(rows) - 1} of the batch"


def _check_n_jobs(n_jobs):
    if n_jobs is None:
        return None
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral):
        raise TypeError(f"n_jobs must be None or an integer, got {n_jobs!r:.80}")
    if n_jobs == 0:
        raise ValueError(
            "n_jobs must be None, a positive number of workers, or negative "
            "(-1 for all CPUs, -2 for all but one, ...), got 0")
    return int(n_jobs)


class BatchEvaluator:
    """Evaluates ``fun`` at batches of points, serially or in parallel.

    Parameters
    ----------
    fun : callable
        ``fun(x, *args) -> float`` for ``x`` of shape ``(n,)``; with
        ``vectorized=True``, ``fun(x, *args) -> ndarray (S,)`` for ``x`` of
        shape ``(n, S)``.
    args : tuple, default ()
        Extra arguments of `fun` (a single non-tuple value is wrapped).
    n_jobs : int or None, default None
        Number of workers, with joblib's meaning: ``None`` is serial unless
        an enclosing ``joblib.parallel_config`` sets ``n_jobs`` or chooses a
        backend whose default is parallel (dask: all its workers); ``1`` is
        always serial; ``-1`` is all CPUs, ``-2`` all but one, and so on.
        The backend is joblib's default (loky processes) or the one set by
        ``joblib.parallel_config(backend=...)``.
    vectorized : bool, default False
        Whether `fun` takes all points at once, as in
        ``scipy.optimize.differential_evolution(vectorized=True)``: ``x`` of
        shape ``(n, S)`` with one point per column, returning shape
        ``(S,)``. Combined with ``n_jobs``, each worker makes one such call
        on its share of the points.

    Attributes
    ----------
    backend : str
        Where the values are computed once started: ``'serial'``,
        ``'loky'``, ``'threading'``, ``'dask'``, or the name of another
        joblib backend.
    n_workers : int
        Number of chunks a batch is split into (one task per worker).

    Notes
    -----
    Use it as a context manager (or call `close`): the worker pool, or the
    dask workers' copy of `fun` and `args`, is set up once on entry (or at
    the first call) and kept for every batch until the exit, so a run pays
    the start-up cost once. A batch of ``S`` points is split into
    ``n_workers`` contiguous chunks, one task each.

    **Identical results.** The values do not depend on `n_jobs`, the
    backend or `vectorized`, provided `fun` computes the same value for the
    same point in every process (beware of multi-threaded BLAS, whose
    results may depend on the number of threads). For the vectorized
    call, ``x`` is the transpose of a C-contiguous array, so that each point
    is a contiguous column; NumPy reductions over ``axis=0`` of such an
    array add in the same order as on the 1-D point.

    **Large data.** Under process-based joblib backends (loky,
    multiprocessing), numpy arrays larger than 1 MB among `args` or
    captured by `fun` are memory-mapped, written once per evaluator and
    read-only in the workers (joblib's ``max_nbytes`` and ``mmap_mode``,
    settable through ``parallel_config``); other objects are pickled into
    every task. Under dask, `fun` and `args` are sent to the cluster once
    and shared by its workers. Under both, `fun` must not rely on state kept
    between calls.

    **Dask.** Under joblib's dask backend every evaluation runs on a worker
    of the cluster, even when it has a single worker (where
    `joblib.Parallel` would run the tasks in the calling process); only an
    explicit ``n_jobs=1`` evaluates in the calling process.

    **Errors.** An exception raised by `fun` in a worker reaches the caller
    with its type, and a note naming the index and coordinates of the point.
    A worker that dies raises loky's ``TerminatedWorkerError`` (or, once the
    scheduler has retried the chunk ``distributed.scheduler.allowed-failures``
    times, dask's ``KilledWorker``) with a note; under dask the note names the
    point, or the chunk of points, the dead workers were evaluating. In every case no value of the batch is
    returned, so an ask/tell optimizer keeps its pending points and the
    batch can be evaluated again. NaN and infinite values are returned as
    they are, whatever the backend.

    **Cost.** Dispatching a batch costs about 10 ms with loky or threads
    (joblib checks for finished tasks every 10 ms) and about 25 ms on a
    local dask cluster, on an idle 2-core machine. With two workers and
    ``P`` pairs, parallel evaluation therefore pays once one evaluation
    takes more than about ``cost / P`` (about 1.5 ms with loky for
    ``P = 8``), and approaches a speed-up of 2 for objectives of tens of
    milliseconds; ``benchmarks/parallel.py`` measures it. The default
    ``n_jobs=None`` outside a ``parallel_config`` never starts a pool and
    runs the plain serial loop.

    A scipy-style map-like ``workers`` (say an ``mpi4py`` executor's ``map``)
    fits the vectorized convention without extra support::

        BatchEvaluator(lambda x: np.fromiter(pool.map(f, x.T), float),
                       vectorized=True)

    Examples
    --------
    >>> import numpy as np
    >>> from joblib import parallel_config
    >>> from ges_minimize._evaluate import BatchEvaluator
    >>> points = np.arange(12.0).reshape(4, 3)
    >>> with BatchEvaluator(lambda x: np.sum(x ** 2)) as evaluate:
    ...     evaluate(points)
    array([  5.,  50., 149., 302.])
    >>> square_norms = lambda x: np.sum(x ** 2, axis=0)   # x of shape (n, S)
    >>> with BatchEvaluator(square_norms, vectorized=True) as evaluate:
    ...     evaluate(points)
    array([  5.,  50., 149., 302.])
    >>> with parallel_config(backend="threading", n_jobs=2):
    ...     with BatchEvaluator(lambda x: np.sum(x ** 2)) as evaluate:
    ...         print(evaluate.backend, evaluate.n_workers, evaluate(points))
    threading 2 [  5.  50. 149. 302.]
    """

    def __init__(self, fun, args=(), *, n_jobs=None, vectorized=False):
        if not callable(fun):
            raise TypeError(f"fun must be callable, got {fun!r:.80}")
        if not isinstance(vectorized, (bool, np.bool_)):
            raise TypeError(
                f"vectorized must be True or False, got {vectorized!r:.80}")
        self.n_jobs = _check_n_jobs(n_jobs)
        self.vectorized = bool(vectorized)
        self._task = _ChunkTask(fun, _as_args(args), self.vectorized)
        self._runner = None

    @property
    def backend(self):
        return self._start().name

    @property
    def n_workers(self):
        return self._start().n_workers

    def _start(self):
        if self._runner is None:
            self._runner = _make_runner(self._task, self.n_jobs)
        return self._runner

    def __call__(self, points, args=None):
        """The values of ``fun`` at the rows of `points`.

        Parameters
        ----------
        points : array_like, shape (S, n)
        args : tuple, optional
            Extra arguments of ``fun`` for this batch only, in place of those
            given at construction (they travel with every task).

        Returns
        -------
        values : ndarray, shape (S,)
        """
        points = np.ascontiguousarray(points, dtype=float)
        if points.ndim != 2:
            raise ValueError(
                "points must be a 2-D array of shape (S, n), one point per "
                f"row, got shape {points.shape}")
        if len(points) == 0:
            return np.empty(0)
        return self._start().run(points, None if args is None
                                 else _as_args(args))

    def close(self):
        """Release the workers (or the copy of `fun` held by dask workers)."""
        runner, self._runner = self._runner, None
        if runner is not None:
            runner.close()

    def __enter__(self):
        self._start()
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __repr__(self):
        where = ("not started" if self._runner is None else
                 f"{self._runner.name}, {self._runner.n_workers} workers")
        return (f"BatchEvaluator({self._task.fun!r:.60}, n_jobs={self.n_jobs}, "
                f"vectorized={self.vectorized}; {where})")


def _as_args(args):
    return args if isinstance(args, tuple) else (args,)


def _make_runner(task, n_jobs):
    """The serial, joblib or dask runner for `n_jobs` in the active config."""
    if n_jobs == 1:
        return _Serial(task)
    backend, backend_n_jobs = get_active_backend()
    if _is_dask(backend):
        # Unlike joblib.Parallel, which runs in the calling process when the
        # cluster has a single worker thread, every evaluation goes to a
        # worker: a fun that crashes must not take the client down with it.
        if (backend_n_jobs if n_jobs is None else n_jobs) == 1:
            return _Serial(task)
        return _Dask(task, n_jobs, backend)
    n_workers = joblib.effective_n_jobs(n_jobs)
    if n_workers == 1:
        return _Serial(task)
    return _Joblib(task, n_jobs, backend, n_workers)


def _is_dask(backend):
    client = getattr(backend, "client", None)
    if client is None:
        return False
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - a client without distributed
        return False
    return isinstance(client, Client)
