"""The network: raw inputs -> [log(1 + x) of heavy-tailed columns] -> scaling -> dense layers -> softmax, compiled."""

from __future__ import annotations

from typing import Any

import numpy as np

from hhnb.config.training import HyperParameters
from hhnb.errors import UserArgumentError
from hhnb.nn import backend, layers, morphing

#: optimiser names a configuration or search may use, and Keras' class for each
OPTIMIZERS = ("adamax", "adam", "sgd", "rmsprop", "nadam")


def optimizer(name: str, learning_rate: float) -> Any:
    """A Keras optimiser by name (one of :data:`OPTIMIZERS`)."""
    k = backend.keras()
    classes = {"adamax": k.optimizers.Adamax, "adam": k.optimizers.Adam, "sgd": k.optimizers.SGD,
               "rmsprop": k.optimizers.RMSprop, "nadam": k.optimizers.Nadam}
    if name.lower() not in classes:
        raise UserArgumentError(f"unknown optimizer {name!r}: expected one of {', '.join(OPTIMIZERS)}")
    return classes[name.lower()](learning_rate=learning_rate)


def build(x_train: np.ndarray, n_classes: int, hyper: HyperParameters, head: str = "dense") -> Any:
    """Input -> [log(1 + x) of heavy-tailed columns] -> Normalization (adapted on the training set) -> Dense -> softmax.

    ``head="morphing"`` (a parameterised network, :mod:`hhnb.nn.morphing`): the dense layers see every input but
    the last (kappa_lambda), which enters only the head (signal odds a ratio of quadratics in kappa_lambda).
    """
    k = backend.keras()
    inputs = k.Input(shape=(x_train.shape[1],), name="features")
    x = inputs
    columns = layers.heavy_tailed_columns(x_train) if hyper.log_inputs else ()
    if columns:
        x = layers.log_layer()(columns, x_train.shape[1], name=layers.NAME)(x)
    norm = k.layers.Normalization(name="scaling")
    norm.adapt(layers.log_columns(x_train, columns))
    x = norm(x)
    if head == "morphing":
        x = morphing.body_input(x)
    for i, width in enumerate(hyper.widths):
        x = k.layers.Dense(int(width), activation="relu", name=f"dense_{i}")(x)
        if i == 0 and hyper.dropout > 0:
            x = k.layers.Dropout(hyper.dropout, name="dropout")(x)
    outputs = (morphing.head(x, inputs, n_classes) if head == "morphing"
               else k.layers.Dense(n_classes, activation="softmax", name="probabilities")(x))
    model = k.Model(inputs, outputs, name="hhnb_classifier")
    model.compile(optimizer=optimizer(hyper.optimizer, hyper.learning_rate),
                  loss="sparse_categorical_crossentropy", steps_per_execution=int(hyper.steps_per_execution))
    return model
