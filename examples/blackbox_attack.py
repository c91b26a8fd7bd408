"""A black-box adversarial attack guided by the gradient of a surrogate model.

The target is a random forest trained on scikit-learn's 8 x 8 digits (pixels
scaled to [0, 1]). Its ``predict_proba`` is piecewise constant in the input:
it can be queried, but it has no usable gradient. A logistic regression
trained on the same data is differentiable, and the gradient of its logit
margin with respect to the input is a natural *surrogate gradient* for the
forest's loss: correlated with the direction that fools the forest, but not
the same (one of the applications of Guided ES in Maheswaranathan et al.
2019).

For each of 50 correctly classified test images ``x0`` with label ``y`` the
attack minimises the forest's probability margin

    m(x) = p_y(x) - max_{j != y} p_j(x)

over the L-infinity ball ``|x - x0|_inf <= 0.1`` intersected with the valid
pixel range [0, 1], passed to `GuidedES` as ``bounds``. The attack succeeds
as soon as one queried point has ``m < 0`` (the forest misclassifies it);
every point the optimiser asks for counts as a query, up to 1,000 per
image. Compared:

* pure transfer attacks, which never query the forest while searching:
  FGSM (one signed step of size 0.1) and PGD (20 signed steps of 0.0125) on
  the logistic regression's logit margin, then one query to check;
* Guided ES (``alpha = 0.5, beta = 2, k = 1``, ``P = 5`` pairs per
  iteration) with the surrogate's input gradient at the current centre;
* vanilla ES, the same without the surrogate (``alpha = 1``);
* both ES attacks again, started from the PGD candidate instead of ``x0``
  (checking it is their first query), a common way to combine transfer and
  query-based attacks.

Both ES variants take signed steps ``x <- x - 0.02 sign(g)`` (the usual
step for an L-infinity budget), given to `GuidedES` as a custom step rule
with ``init``/``update`` methods. The perturbation scale ``sigma = 0.8``
makes the per-pixel standard deviation ``sigma / sqrt(64) = 0.1``, the size
of the budget. All images are attacked together: each round, every image
still under attack asks for its 10 points and a single ``predict_proba``
call answers them all, which the ask/tell interface makes easy.

What it shows, honestly mixed:

* Transfer alone fools the forest on 40% of the images. Started from
  ``x0``, Guided ES needs a median of 19 queries to succeed against 67 for
  vanilla ES (3.5 times fewer on the images both fool): its first
  perturbations already point along the transfer direction.
* That advantage comes from the images on which the surrogate is right. On
  the 30 images where PGD transfer fails, the surrogate's direction is by
  definition a poor one, and Guided ES, which spends half its search
  variance on it, does no better than vanilla ES (success 0.43 against 0.50
  within the budget, similar query counts). This is what the theory of the
  paper predicts: a guide that is no better than a random direction is worth
  nothing, and the best ``alpha`` is then 1 (vanilla ES).
* Started from the PGD candidate, the two ES attacks are close; the start,
  not the guide, does most of the work there.

Overall success is similar for all ES variants (0.66 to 0.70); 13 of the
50 images resist every attack at this budget. Prints the table (on all
images and on those where transfer fails) and saves ``blackbox_attack.png``
(success rate against queries; one adversarial example).

Usage::

    python blackbox_attack.py [--quick] [--out DIR]

``--quick`` attacks 12 images with a budget of 200 queries (a few seconds);
it is what the test suite runs.

References
----------
N. Maheswaranathan, L. Metz, G. Tucker, D. Choi and J. Sohl-Dickstein,
"Guided evolutionary strategies: augmenting random search with surrogate
gradients", ICML 2019, arXiv:1806.10230.
"""
import argparse
import os
import time
from typing import NamedTuple

import numpy as np
from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from ges_minimize import GuidedES

SEED = 0
EPSILON = 0.1            # L-infinity budget, in pixel units ([0, 1])
SIGMA = 0.8              # per-pixel std sigma / sqrt(64) = EPSILON
ALPHA, BETA, N_PAIRS = 0.5, 2.0, 5
STEP_SIZE = 0.02         # signed step of the ES attacks
PGD_STEPS, PGD_STEP_SIZE = 20, EPSILON / 8


class SignStepState(NamedTuple):
    """Signed steps keep no state."""


class SignStep:
    """Step rule ``delta = -step_size * sign(g)``: steepest descent in L-infinity."""

    def __init__(self, step_size):
        self.step_size = step_size

    def init(self, x):
        return SignStepState()

    def update(self, g, state):
        return -self.step_size * np.sign(g), state


class Models:
    """The black-box target, the white-box surrogate, and the test images."""

    def __init__(self, seed=SEED):
        X, y = load_digits(return_X_y=True)
        X = X / 16.0
        X_train, self.X_test, y_train, self.y_test = train_test_split(
            X, y, test_size=0.3, random_state=seed, stratify=y)
        self.target = RandomForestClassifier(
            n_estimators=50, random_state=seed).fit(X_train, y_train)
        self.surrogate = LogisticRegression(max_iter=2000).fit(X_train, y_train)

    def target_margin(self, points, labels):
        """Black box: ``p_y - max_{j != y} p_j`` of the forest, one query per row."""
        p = self.target.predict_proba(points)
        rows = np.arange(len(points))
        p_true = p[rows, labels].copy()
        p[rows, labels] = -np.inf
        return p_true - p.max(axis=1)

    def surrogate_grad(self, x, label):
        """White box: input gradient of the logistic regression's logit margin."""
        W = self.surrogate.coef_
        logits = W @ x + self.surrogate.intercept_
        logits[label] = -np.inf
        return W[label] - W[np.argmax(logits)]


def ball(x0, epsilon):
    """Lower and upper bounds: the L-infinity ball intersected with [0, 1]."""
    return np.maximum(x0 - epsilon, 0.0), np.minimum(x0 + epsilon, 1.0)


def transfer_attack(models, images, labels, n_steps, step_size):
    """Signed descent on the surrogate only (FGSM for one step, else PGD).

    Returns the candidates; no query is made.
    """
    candidates = []
    for x0, label in zip(images, labels):
        lo, hi = ball(x0, EPSILON)
        x = x0.copy()
        for _ in range(n_steps):
            x = np.clip(x - step_size * np.sign(models.surrogate_grad(x, label)),
                        lo, hi)
        candidates.append(x)
    return np.array(candidates)


def es_attack(models, images, labels, guided, budget, starts=None):
    """Vanilla or Guided ES on every image at once; queries to success per image.

    The search for image ``i`` starts at ``starts[i]`` (default: the image
    itself) and stays in the ball around ``images[i]``. A start other than
    the image costs one query first, and ends the attack if it already fools
    the target.

    Returns ``(queries, adversarial)``: the number of queries up to and
    including the first point that fooled the target (``inf`` when the budget
    ran out), and that point (or ``None``).
    """
    n_images = len(images)
    used = np.zeros(n_images, dtype=int)
    queries = np.full(n_images, np.inf)
    adversarial = [None] * n_images
    active = list(range(n_images))
    if starts is None:
        starts = images
    else:
        fooled = models.target_margin(starts, labels) < 0
        used += 1
        for i in np.flatnonzero(fooled):
            queries[i], adversarial[i] = 1, starts[i]
        active = [i for i in active if not fooled[i]]
    optimizers = {}
    for i in active:
        lo, hi = ball(images[i], EPSILON)
        optimizers[i] = GuidedES(
            starts[i], sigma=SIGMA, alpha=ALPHA if guided else 1.0, beta=BETA,
            n_pairs=N_PAIRS, subspace_dim=1, step=SignStep(STEP_SIZE),
            bounds=list(zip(lo, hi)), rng=np.random.default_rng([SEED, i]))
    per_round = 2 * N_PAIRS
    while active:
        points = []
        for i in active:
            es = optimizers[i]
            if guided:              # the surrogate at the centre, then sample
                es.add_surrogate_grad(models.surrogate_grad(es.x, labels[i]))
            points.append(es.ask())
        margins = models.target_margin(
            np.vstack(points), np.repeat(labels[active], per_round)
        ).reshape(len(active), per_round)
        still_active = []
        for row, i in enumerate(active):
            fooled = np.flatnonzero(margins[row] < 0)
            if fooled.size:
                queries[i] = used[i] + fooled[0] + 1
                adversarial[i] = points[row][fooled[0]]
                continue
            used[i] += per_round
            optimizers[i].tell(margins[row])
            if used[i] + per_round <= budget:
                still_active.append(i)
        active = still_active
    return queries, adversarial


def plot(results, budget, example, path):
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(10, 4))
    ax = fig.add_subplot(1, 2, 1)
    grid = np.arange(0, budget + 1)
    styles = {"Guided ES": ("tab:blue", "-"), "vanilla ES": ("tab:gray", "-"),
              "Guided ES from PGD": ("tab:blue", "--"),
              "vanilla ES from PGD": ("tab:gray", "--")}
    for method, (color, style) in styles.items():
        q = results[method]["queries"]
        ax.plot(grid, [np.mean(q <= g) for g in grid], style, color=color,
                label=method)
    for method, marker, color in (("FGSM transfer", "s", "tab:orange"),
                                  ("PGD transfer", "^", "tab:red")):
        ax.plot([1], [results[method]["success"]], marker, color=color,
                mfc="none", ms=9, label=method + " (1 query)")
    ax.set_xscale("symlog", linthresh=10)
    ax.set(xlim=(0, budget), ylim=(0, 1.02), xlabel="queries to the forest",
           ylabel="fraction of images fooled",
           title=f"(a) success within the budget, L-inf {EPSILON}")
    ax.legend(loc="upper left", fontsize=8)

    x0, x_adv, label, predicted = example
    for k, (image, name) in enumerate(
            ((x0, f"original: forest says {label}"),
             (x_adv, f"Guided ES: forest says {predicted}"),
             (x_adv - x0, "difference"))):
        ax = fig.add_subplot(2, 6, 4 + k + (0 if k < 3 else 3))
        if name == "difference":
            ax.imshow(image.reshape(8, 8), cmap="RdBu", vmin=-EPSILON,
                      vmax=EPSILON)
        else:
            ax.imshow(image.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
        ax.set_title(name, fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.text(0.75, 0.35, "(b) an adversarial example found by Guided ES",
             ha="center")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _summary(queries):
    """Success rate, median and mean queries to success, as table columns."""
    success = np.isfinite(queries)
    if not success.any():
        return f"{success.mean() if queries.size else 0.0:>10.3f}{'-':>10}{'-':>9}"
    return (f"{success.mean():>10.3f}{np.median(queries[success]):>10.1f}"
            f"{np.mean(queries[success]):>9.1f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="12 images, 200 queries each (a few seconds)")
    parser.add_argument("--out", default=".",
                        help="directory for the figure (default: current)")
    args = parser.parse_args(argv)
    n_images, budget = (12, 200) if args.quick else (50, 1000)

    models = Models()
    correct = np.flatnonzero(
        models.target.predict(models.X_test) == models.y_test)
    images = models.X_test[correct[:n_images]]
    labels = models.y_test[correct[:n_images]]
    print(f"target: random forest, test accuracy "
          f"{models.target.score(models.X_test, models.y_test):.3f}; "
          f"surrogate: logistic regression, test accuracy "
          f"{models.surrogate.score(models.X_test, models.y_test):.3f}")
    print(f"{n_images} correctly classified test images, L-inf budget "
          f"{EPSILON}, at most {budget} queries per image\n")

    results = {}
    pgd = transfer_attack(models, images, labels, PGD_STEPS, PGD_STEP_SIZE)
    hard = models.target_margin(pgd, labels) >= 0     # where transfer fails
    print(f"{'':<24}{'all ' + str(n_images) + ' images':^29}"
          f"{str(hard.sum()) + ' where PGD transfer fails':^29}")
    print(f"{'attack':<24}{'success':>10}{'median q':>10}{'mean q':>9}"
          f"{'success':>10}{'median q':>10}{'mean q':>9}{'time s':>8}")
    for method in ("FGSM transfer", "PGD transfer", "vanilla ES", "Guided ES",
                   "vanilla ES from PGD", "Guided ES from PGD"):
        start = time.perf_counter()
        if method.endswith("transfer"):
            candidates = (pgd if method.startswith("PGD") else
                          transfer_attack(models, images, labels, 1, EPSILON))
            fooled = models.target_margin(candidates, labels) < 0
            queries, adversarial = np.where(fooled, 1.0, np.inf), None
        else:
            queries, adversarial = es_attack(
                models, images, labels, method.startswith("Guided"), budget,
                starts=pgd if method.endswith("PGD") else None)
        seconds = time.perf_counter() - start
        results[method] = {"queries": queries,
                           "success": np.isfinite(queries).mean(),
                           "adversarial": adversarial}
        columns = "".join(_summary(queries[subset])
                          for subset in (slice(None), hard))
        print(f"{method:<24}{columns}{seconds:>8.1f}", flush=True)
    both = np.isfinite(results["Guided ES"]["queries"]) & np.isfinite(
        results["vanilla ES"]["queries"])
    if both.any():
        ratio = np.median(results["vanilla ES"]["queries"][both]
                          / results["Guided ES"]["queries"][both])
        print(f"\non the {both.sum()} images both ES attacks fooled, vanilla "
              f"ES needed a median {ratio:.1f} times the queries of Guided ES")
    fooled_any = np.any([np.isfinite(r["queries"]) for r in results.values()],
                        axis=0)
    print(f"fooled by at least one attack: {fooled_any.sum()} of {n_images} "
          "images")
    print("success: fraction of images fooled within the budget; median q, "
          "mean q: queries\nto the first fooling point, over the images "
          "fooled; 'from PGD': the search\nstarts at the PGD candidate "
          "(its check is the first query)")

    # Show the Guided ES example that needed the most queries.
    q = results["Guided ES"]["queries"]
    if np.isfinite(q).any():
        i = int(np.argmax(np.where(np.isfinite(q), q, -1)))
        x_adv = results["Guided ES"]["adversarial"][i]
        example = (images[i], x_adv, labels[i],
                   models.target.predict(x_adv[None])[0])
    else:
        example = (images[0], images[0], labels[0], labels[0])
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "blackbox_attack.png")
    plot(results, budget, example, path)
    print(f"\nsaved {path}")


if __name__ == "__main__":
    main()
