"""Train a network with sign activations, whose gradient is zero almost everywhere.

A hidden layer of ``sign`` units makes the classifier piecewise constant in
its weights: back-propagation has nothing to follow. The straight-through
estimator (back-propagating as if ``sign`` were the hard tanh) gives a
usable but biased *surrogate* gradient. Guided ES uses it to shape its
random search while judging every step by the true accuracy (Maheswaranathan
et al. 2019, "networks with non-differentiable layers").

The script trains a 64-32-10 sign network on the digits data set from the
same random start with

- Guided ES (accuracy as the objective, straight-through gradients as the
  guide),
- pure ES (the same, with no guide: ``surrogate_loss=None``),

at the same number of accuracy evaluations, then Guided ES started from a
straight-through initialisation (``init='surrogate'``). It prints training
and test accuracy and plots the training accuracy during the fits.

Run ``python examples/nondifferentiable_network.py`` (about a minute) or
with ``--quick`` (a few seconds). The figure goes to
``nondifferentiable_network.png`` (or ``--output PATH``) when matplotlib is
installed.
"""

import argparse

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from ges_minimize import GuidedESClassifier


def main(argv=None):
    parser = argparse.ArgumentParser(description="Guided ES for a sign network")
    parser.add_argument("--quick", action="store_true", help="a few-second run")
    parser.add_argument("--output", default="nondifferentiable_network.png",
                        help="where to save the figure")
    args = parser.parse_args(argv)

    X, y = load_digits(return_X_y=True)
    if args.quick:
        X, y = X[:500], y[:500]
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, stratify=y,
                                              random_state=0)
    hidden = (16,) if args.quick else (32,)
    max_iter = 30 if args.quick else 1000
    # the same budget for every run: no iterations chosen by cross-validation
    common = dict(hidden_layer_sizes=hidden, activation="sign", max_iter=max_iter,
                  n_pairs=5, early_stopping=False, random_state=0)
    runs = {
        "Guided ES, random start": GuidedESClassifier(init="random", **common),
        "pure ES, random start": GuidedESClassifier(init="random",
                                                    surrogate_loss=None, **common),
        "Guided ES, straight-through start": GuidedESClassifier(init="surrogate",
                                                                **common),
    }
    evaluations = max_iter * (2 * common["n_pairs"] + 1)
    print(f"sign network 64-{'-'.join(map(str, hidden))}-10, {max_iter} "
          f"iterations ({evaluations} accuracy evaluations each)")
    print(f"{'':36} {'start':>7} {'train':>7} {'test':>7}")
    for label, model in runs.items():
        model.fit(X_tr, y_tr)
        print(f"{label:36} {model.init_score_:7.3f} {model.score(X_tr, y_tr):7.3f} "
              f"{model.score(X_te, y_te):7.3f}")

    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no figure")
        return
    fig, ax = plt.subplots(figsize=(6, 3.8))
    for label, model in runs.items():
        ax.plot(model.objective_curve_, label=label)
    ax.axhline(0.1, color="grey", ls=":", label="chance")
    ax.set(xlabel="iteration", ylabel="training accuracy", ylim=(0, 1.03),
           title="Sign network on digits")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(args.output, dpi=120)
    print(f"figure saved to {args.output}")


if __name__ == "__main__":
    main()
