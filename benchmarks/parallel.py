"""Wall time of Guided ES with serial, loky, threaded and dask evaluation.

Sections (P = 8 pairs, so 16 evaluations per iteration, n = 50):

1. an objective costing 20 ms of CPU per call, 30 iterations: serial,
   loky with 2 workers, dask with 2 workers;
2. a cheap objective (microseconds): the dispatch cost per iteration, and
   the default ``n_jobs=None`` against serial;
3. objectives of 0.5 to 5 ms: where parallelism starts to pay;
4. a cheap objective holding a large array: loky with and without joblib's
   memory-mapping, dask with ``fun`` scattered once versus sent again at
   every iteration (a new evaluator per iteration).

Each time is the median of ``--repeat`` rounds that alternate the setups
(so that changes of load on a shared machine hit them alike), after a
warm-up run of each (worker start-up is reported apart). Every parallel run
is checked to return the serial run's ``x`` bit for bit. Prints markdown
tables.

Usage: ``python benchmarks/parallel.py [--quick] [--repeat R]``.
"""
import os

# One BLAS thread in this process and in every worker it starts (workers
# inherit the environment); set before numpy is imported.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse                                          # noqa: E402
import concurrent.futures                                # noqa: E402
import gc                                                # noqa: E402
import statistics                                        # noqa: E402
import time                                              # noqa: E402

import numpy as np                                       # noqa: E402
from joblib import parallel_config                       # noqa: E402

from ges_minimize import GuidedES, minimize_guided_es    # noqa: E402
from ges_minimize._evaluate import BatchEvaluator        # noqa: E402

N, P = 50, 8


class Burn:
    """``|x - 1|^2`` after `seconds` of CPU time of the calling thread.

    CPU time, not wall time: the work is fixed, so on a busy machine the
    wall time grows as it would for a real computation.
    """

    def __init__(self, seconds):
        self.seconds = seconds

    def __call__(self, x):
        end = time.thread_time() + self.seconds
        while time.thread_time() < end:
            pass
        return float(np.sum((x - 1.0) ** 2))


class BigData:
    """A cheap objective that carries a large array (as a captured model)."""

    def __init__(self, megabytes):
        self.data = np.ones(int(megabytes * 2 ** 20 / 8))

    def __call__(self, x):
        return float(np.sum((x - self.data[0]) ** 2))


def surrogate(x):
    return 2.0 * (x - 1.0) + 0.5


def _free_cores(seconds=0.25):
    """CPU seconds two concurrent processes get per wall second."""
    with concurrent.futures.ProcessPoolExecutor(2) as pool:
        list(pool.map(Burn(0.0), [np.zeros(1)] * 2))        # start them
        start = time.perf_counter()
        list(pool.map(Burn(seconds), [np.zeros(1)] * 2))
        return 2 * seconds / (time.perf_counter() - start)


def run(fun, maxiter, **options):
    start = time.perf_counter()
    res = minimize_guided_es(fun, np.zeros(N), surrogate, n_pairs=P,
                             maxiter=maxiter, rng=0, **options)
    return time.perf_counter() - start, res


def timed(fun, maxiter, repeat, setups):
    """Median wall time of each setup over `repeat` interleaved rounds.

    Rounds alternate the setups, so that a change of load on a shared
    machine affects them alike. A warm-up run per setup starts its workers.
    Every run must return the first setup's ``x`` exactly.
    """
    for _, config, options in setups:
        with parallel_config(**config):
            run(fun, 1, **options)
    times = [[] for _ in setups]
    reference = None
    for _ in range(repeat):
        for (name, config, options), spent in zip(setups, times):
            gc.collect()
            time.sleep(0.2)     # let the previous run's background work end
            with parallel_config(**config):
                wall, res = run(fun, maxiter, **options)
            spent.append(wall)
            if reference is None:
                reference = res
            elif not np.array_equal(res.x, reference.x):
                raise AssertionError(f"{name}: x differs from the serial run")
    return [statistics.median(spent) for spent in times]


def table(title, header, rows):
    print(f"\n### {title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def section_costly(setups, maxiter, repeat, cost):
    walls = timed(Burn(cost), maxiter, repeat, setups)
    rows = [[name, f"{wall:.2f}", f"{1e3 * wall / maxiter:.0f}",
             f"{walls[0] / wall:.2f}x"]
            for (name, _, _), wall in zip(setups, walls)]
    table(f"{1e3 * cost:g} ms objective, P = {P}, {maxiter} iterations",
          ["evaluation", "wall (s)", "per iteration (ms)", "speed-up"], rows)


def section_cheap(setups, maxiter, repeat):
    walls = timed(Burn(0.0), maxiter, repeat, setups)
    base = 1e3 * walls[0] / maxiter
    rows = []
    for (name, _, _), wall in zip(setups, walls):
        per = 1e3 * wall / maxiter
        rows.append([name, f"{per:.2f}", f"{per - base:.2f}",
                     f"{walls[0] / wall:.2f}x"])
    table(f"cheap objective (~{_cheap_cost():.0f} us per call), P = {P}, "
          f"{maxiter} iterations",
          ["evaluation", "per iteration (ms)", "dispatch cost (ms)",
           "speed-up"], rows)


def _cheap_cost():
    fun, x = Burn(0.0), np.zeros(N)
    start = time.perf_counter()
    for _ in range(2000):
        fun(x)
    return 1e6 * (time.perf_counter() - start) / 2000


def section_crossover(setups, costs, maxiter, repeat):
    rows = []
    for cost in costs:
        walls = timed(Burn(cost), maxiter, repeat, setups)
        rows.append([f"{1e3 * cost:g}", f"{1e3 * walls[0] / maxiter:.1f}"]
                    + [f"{walls[0] / wall:.2f}x" for wall in walls[1:]])
    table(f"where parallelism pays (P = {P}, {maxiter} iterations)",
          ["cost per call (ms)", "serial per iteration (ms)"]
          + [f"{name} speed-up" for name, _, _ in setups[1:]], rows)


def ask_tell(fun, iterations, config, reopen):
    """Seconds per iteration of an ask/tell loop, one evaluator or one each."""
    es = GuidedES(np.zeros(N), n_pairs=P, rng=0)
    with parallel_config(**config):
        with BatchEvaluator(fun, n_jobs=2) as evaluate:
            evaluate(es.ask())                           # start-up, untimed
            start = time.perf_counter()
            for _ in range(iterations):
                if reopen:
                    with BatchEvaluator(fun, n_jobs=2) as fresh:
                        es.tell(fresh(es.ask()))
                else:
                    es.tell(evaluate(es.ask()))
            return (time.perf_counter() - start) / iterations


def section_large(megabytes, iterations, with_dask):
    fun = BigData(megabytes)
    setups = [
        ("loky, memory-mapped once (default)", dict(), False),
        ("loky, memory-mapping off (max_nbytes=None)",
         dict(max_nbytes=None), False),
    ]
    if with_dask:
        setups += [
            ("dask, scattered once (default)", dict(backend="dask"), False),
            ("dask, new evaluator every iteration (sent again)",
             dict(backend="dask"), True),
        ]
    rows = [[name, f"{1e3 * ask_tell(fun, iterations, config, reopen):.1f}"]
            for name, config, reopen in setups]
    table(f"cheap objective carrying a {megabytes} MB array, 2 workers, "
          f"{iterations} iterations", ["evaluation", "per iteration (ms)"],
          rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="a few iterations of everything (seconds)")
    parser.add_argument("--repeat", type=int, default=None,
                        help="runs per timing (median), default 3 (1 quick)")
    parser.add_argument("--no-dask", action="store_true",
                        help="skip the dask rows")
    args = parser.parse_args()
    quick = args.quick
    repeat = args.repeat or (1 if quick else 3)

    print(f"# Parallel evaluation benchmark{' (quick)' if quick else ''}\n")
    print(f"{os.cpu_count()} CPUs; load average before: "
          + ", ".join(f"{v:.2f}" for v in os.getloadavg()))

    print(f"CPU available to 2 processes: {_free_cores():.2f} cores "
          "(2.00 on an idle 2-core machine)")

    client = cluster = None
    if not args.no_dask:
        from dask.distributed import Client, LocalCluster
        start = time.perf_counter()
        cluster = LocalCluster(n_workers=2, threads_per_worker=1,
                               processes=True, dashboard_address=None)
        client = Client(cluster)
        client.wait_for_workers(2)
        print(f"dask LocalCluster (2 worker processes, 1 thread each) "
              f"started in {time.perf_counter() - start:.1f} s")
    start = time.perf_counter()
    with BatchEvaluator(Burn(0.0), n_jobs=2) as evaluate:
        evaluate(np.zeros((2, N)))
    print(f"loky pool of 2 workers started in "
          f"{time.perf_counter() - start:.1f} s (once per session; "
          "later runs reuse it)")

    serial = ("serial (n_jobs=1)", {}, dict(n_jobs=1))
    default = ("default (n_jobs=None)", {}, {})
    loky = ("loky, n_jobs=2", {}, dict(n_jobs=2))
    threads = ("threading, n_jobs=2", dict(backend="threading"),
               dict(n_jobs=2))
    dask = [("dask, 2 workers", dict(backend="dask"), {})] if client else []

    # The burning objective is pure Python holding the GIL, so threads
    # cannot speed it up: they only appear in the dispatch-cost table.
    section_costly([serial, loky] + dask, 3 if quick else 30, repeat, 0.020)
    section_cheap([serial, default, loky, threads] + dask,
                  10 if quick else 200, repeat)
    costs = [1e-3] if quick else [0.5e-3, 1e-3, 2e-3, 5e-3]
    section_crossover([serial, loky] + dask, costs, 3 if quick else 30,
                      repeat)
    section_large(10 if quick else 40, 2 if quick else 10, client is not None)

    print("\nload average after: "
          + ", ".join(f"{v:.2f}" for v in os.getloadavg())
          + f"; CPU available to 2 processes: {_free_cores():.2f} cores")
    if client is not None:
        client.close()
        cluster.close()


if __name__ == "__main__":
    main()
