"""Guided ES on a dask cluster, through joblib's dask backend.

Starts a local dask cluster of two worker processes (or connects to the
scheduler given with ``--scheduler tcp://host:8786``), then runs the perturbed
quadratic of the paper twice with the same seed: serially, and with the
``2P`` evaluations of every iteration spread over the cluster. Each
evaluation carries an extra ~15 ms of CPU work standing in for an expensive
simulation. The two runs return the same point, bit for bit.

The only change to the serial code is the ``parallel_config`` block. To run
on ray instead of dask, replace the cluster set-up and that line with::

    import ray
    from ray.util.joblib import register_ray
    ray.init()
    register_ray()
    with parallel_config(backend="ray"):
        res = minimize_guided_es(...)

Usage: ``python examples/dask_cluster.py [--quick] [--scheduler ADDRESS]``.
"""
import argparse
import contextlib
import time

import numpy as np
from dask.distributed import Client, LocalCluster
from joblib import parallel_config

from ges_minimize import minimize_guided_es
from ges_minimize.problems import PerturbedQuadratic


class Simulation:
    """``problem.fun`` plus `cost` seconds of CPU work per call.

    A class at module level (not a lambda) so that dask workers can
    unpickle it; it carries the problem's matrix (16 MB for n = 1000),
    which is sent to each worker once per run.
    """

    def __init__(self, problem, cost):
        self.problem = problem
        self.cost = cost

    def __call__(self, x):
        end = time.thread_time() + self.cost
        while time.thread_time() < end:
            pass
        return self.problem.fun(x)


def run(problem, fun, maxiter):
    problem.reset_noise()          # same surrogate noise in every run
    start = time.perf_counter()
    res = minimize_guided_es(fun, problem.x0, problem.surrogate_grad,
                             n_pairs=8, sigma=0.1, learning_rate=0.2,
                             maxiter=maxiter, rng=0)
    return res, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="a few iterations, for a smoke test")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="use this dask scheduler (tcp://host:8786) "
                             "instead of starting a local cluster")
    args = parser.parse_args()
    maxiter, n = (5, 200) if args.quick else (150, 1000)

    problem = PerturbedQuadratic(n=n, m=2 * n, seed=0)
    fun = Simulation(problem, cost=0.015)

    serial, t_serial = run(problem, fun, maxiter)

    with contextlib.ExitStack() as stack:
        if args.scheduler is None:
            cluster = stack.enter_context(LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True,
                dashboard_address=None))
            address = cluster.scheduler_address
        else:
            address = args.scheduler
        client = stack.enter_context(Client(address))
        print(f"dask cluster: {len(client.scheduler_info()['workers'])} "
              f"workers at {client.scheduler.address}")
        with parallel_config(backend="dask"):       # the one-line change
            distributed, t_dask = run(problem, fun, maxiter)

    print(f"{maxiter} iterations of 16 evaluations, ~15 ms each")
    print(f"{'':8} {'wall (s)':>9} {'f - f*':>11} {'nfev':>6}")
    for name, res, wall in (("serial", serial, t_serial),
                            ("dask", distributed, t_dask)):
        print(f"{name:8} {wall:9.2f} {res.fun - problem.f_star:11.5g} "
              f"{res.nfev:6d}")
    same = (np.array_equal(serial.x, distributed.x)
            and serial.fun == distributed.fun and serial.nfev == distributed.nfev)
    print(f"dask result identical to the serial run: {same}")


if __name__ == "__main__":
    main()
