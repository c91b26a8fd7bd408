"""Fixtures shared by the test modules."""
import pytest
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split


@pytest.fixture(scope="session")
def imbalanced4():
    """3,000 rows, 4 classes of 60%, 25%, 10% and 5%, split in halves."""
    X, y = make_classification(3000, 10, n_informative=6, n_classes=4,
                               weights=[0.6, 0.25, 0.1, 0.05], class_sep=0.8,
                               random_state=0)
    return train_test_split(X, y, test_size=0.5, random_state=0, stratify=y)
