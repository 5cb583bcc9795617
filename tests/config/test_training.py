"""hhnb.config.training: the one record of training defaults, its checks, the learning-rate rule."""

from __future__ import annotations

import pytest

from hhnb.config import training
from hhnb.config.training import HyperParameters
from hhnb.errors import UserArgumentError


@pytest.mark.parametrize("kwargs,message", [
    ({"epochs": 0}, "epochs=0"), ({"dropout": 1.0}, "dropout=1.0"), ({"widths": (32, 0)}, "widths"),
    ({"batch_size": 2.5}, "an integer"), ({"steps_per_execution": 0}, "steps_per_execution=0"),
    ({"log_inputs": 1}, "log_inputs=1"), ({"optimizer": 3}, "optimizer=3"),
])
def test_bad_hyper_parameters_are_user_errors_that_name_themselves(kwargs, message):
    with pytest.raises(UserArgumentError, match=message):
        HyperParameters(**kwargs)


def test_as_dict_has_every_field_and_no_other():
    assert set(HyperParameters().as_dict()) == {"widths", "dropout", "learning_rate", "optimizer", "epochs",
                                                "batch_size", "patience", "steps_per_execution", "log_inputs"}


def test_unset_learning_rate_is_the_default_quoted_at_batch_100_and_scaled():
    assert HyperParameters().learning_rate == pytest.approx(training.LEARNING_RATE * 10 ** 0.5)
    assert HyperParameters(batch_size=training.REFERENCE_BATCH).learning_rate == training.LEARNING_RATE
    assert HyperParameters(batch_size=400, learning_rate=1e-2).learning_rate == 1e-2  # a number is used as given
    hp = HyperParameters.scaled(1e-3, batch_size=400)
    assert hp.batch_size == 400 and hp.learning_rate == pytest.approx(2e-3)
    # None in scaled(): the default of that setting, and the default rate
    same = HyperParameters.scaled(None, epochs=None, batch_size=None)
    assert same == HyperParameters()


def test_widths_given_as_a_list_become_a_tuple():
    assert HyperParameters(widths=[64, 32]).widths == (64, 32)


def test_changed_lists_what_differs_from_the_defaults_only():
    assert HyperParameters().changed() == {}
    assert HyperParameters(epochs=10, dropout=0.1).changed() == {"epochs": 10, "dropout": 0.1}
    # a smaller batch also changes the scaled learning rate, which the card then shows
    assert HyperParameters(batch_size=100).changed() == {"batch_size": 100, "learning_rate": training.LEARNING_RATE}


def test_folds_default_is_a_k_fold_set():
    assert training.FOLDS >= 2
