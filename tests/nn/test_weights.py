"""hhnb.nn.weights: the negative-weight policy and class-balanced training weights."""

from __future__ import annotations

import numpy as np
import pytest

from hhnb.errors import UserArgumentError
from hhnb.nn import weights


def test_class_balanced_weights_give_every_class_the_same_total():
    labels = np.array([0] * 3 + [1] * 5 + [2] * 2)
    w = weights.class_balanced_weights(labels, np.array([1.0, 2, 3, 1, 1, 1, 1, 1, 50, 50]))
    totals = [w[labels == c].sum() for c in range(3)]
    assert totals == pytest.approx([totals[0]] * 3)
    assert w.mean() == pytest.approx(1.0)
    assert w[1] / w[0] == pytest.approx(2.0)  # within a class the physical weights keep their ratios


def test_signed_weights_pass_through_the_balance():
    w = weights.class_balanced_weights(np.array([0, 0, 1]), np.array([2.0, -1.0, 1.0]))
    assert w[1] < 0 and w[0] + w[1] == pytest.approx(w[2])


def test_negative_weight_policies():
    w = np.array([2.0, -1.0, 0.5])
    assert weights.training_weights(w, "abs").tolist() == [2.0, 1.0, 0.5]
    assert weights.training_weights(w, "keep").tolist() == [2.0, -1.0, 0.5]
    assert weights.training_weights(w, "zero").tolist() == [2.0, 0.0, 0.5]
    with pytest.raises(UserArgumentError, match="negative_weights 'drop': expected one of abs, keep, zero"):
        weights.training_weights(w, "drop")
