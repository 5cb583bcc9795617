"""The morphing-aware head of the parameterised network: signal odds exactly a ratio of quadratics in kappa_lambda.

In gg->HH the matrix element is linear in kappa_lambda at every phase-space point (box + kl x triangle), so
dsigma(x, kl) = A(x) + B(x) kl + C(x) kl^2 with a positive semi-definite quadratic at every x
(docs/physics.md sections 1 and 5). The signal-vs-background likelihood ratio at any kl is then
r(x, kl) = [A(x) + B(x) kl + C(x) kl^2] / (sigma(kl) p_b(x)). The morphing-aware parameterised estimator
(Brehmer, Cranmer, Louppe, Pavez, PRL 121 (2018) 111801; PRD 98 (2018) 052004) builds this structure into
the network: the body (log_inputs, scaling, the dense layers) sees the ntuple features only; its head gives
three numbers u, m1, m2 per event and the signal logit is

    log Q(x, k) - log N(k),  Q = exp(2 u) [(1 + m1 k)^2 + (m2 k)^2 + eps],  N = (1 + n1 k)^2 + (n2 k)^2 + eps,

with k = kl / ``SCALE`` and n1, n2 two trainable scalars (N's overall scale is absorbed in u). Q is the
Cholesky form (l0 + l1 k)^2 + (l2 k)^2 with (l0, l1, l2) = exp(u) (1, m1, m2): every PSD quadratic with
Q(k = 0) > 0, each >= 0 for every kl; l0 = exp(u) > 0 removes the sign ambiguity of (l0, l1), and the
scale sits in log space (a logit-like u). The background logits depend on x only; a softmax over the classes follows, so
output 0 is the signal probability as in every hhnb network. The signal odds against all background,
p_s / (1 - p_s) = Q(x, k) / (N(k) sum_j exp g_j(x)), are exactly a ratio of two quadratics in kl for
every event: what a network trained at a few lambdas must know to score any other one.

kappa_lambda stays the model's last input column (one input: the features, then kappa_lambda), so
``hhnb apply``, ``Parameterised.score`` and the ONNX export take the same inputs as for the plain
(Baldi et al.) network, whose head is ``"dense"``.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from hhnb.errors import UserArgumentError
from hhnb.nn import backend
from hhnb.nn.predict import predict

#: heads of a parameterised network: "morphing" (this module, the default) or "dense" (kl is a plain input)
HEADS = ("morphing", "dense")
DEFAULT_HEAD = "morphing"
#: k = kappa_lambda / SCALE: the study's range [-20, 20] maps to [-0.2, 0.2], so the untrained head starts
#: almost flat in kappa_lambda and m1, m2 grow as they learn. On the resolved toy (2 folds, 13 epochs, one seed)
#: the worst grid lambda's AUC minus the dedicated network's was -0.026, -0.013, -0.008, -0.006 for scales
#: 3, 10, 30, 100 (docs/physics.md section 5).
SCALE = 100.0
#: added to both quadratics: the log stays finite where the amplitude vanishes (destructive interference)
EPSILON = 1e-6

REFERENCE = ("Brehmer, Cranmer, Louppe, Pavez, PRL 121 (2018) 111801 and PRD 98 (2018) 052004 "
             "(morphing-aware parameterised estimator)")


def check_head(head: str) -> str:
    """``head`` if it is one of :data:`HEADS`, else a :class:`~hhnb.errors.UserArgumentError` naming the choices.

    >>> check_head("morphing")
    'morphing'
    """
    if head not in HEADS:
        raise UserArgumentError(f"parameterised network head {head!r}: expected one of {', '.join(HEADS)}")
    return head


def cholesky_quadratic(l0: Any, l1: Any, l2: Any, k: Any, epsilon: float = EPSILON) -> Any:
    """(l0 + l1 k)^2 + (l2 k)^2 + epsilon: a quadratic in k that is >= epsilon for every k (numpy).

    Every PSD quadratic a + b k + c k^2 (a, c >= 0, b^2 <= 4 a c) has this form with l0 = sqrt(a),
    l1 = b / (2 sqrt(a)), l2 = sqrt(c - l1^2).

    >>> float(cholesky_quadratic(1.0, -1.0, 0.0, 1.0, epsilon=0.0)), float(cholesky_quadratic(1.0, 2.0, 3.0, 2.0, 0.0))
    (0.0, 61.0)
    """
    return (l0 + l1 * k) ** 2 + (l2 * k) ** 2 + epsilon


def polynomial(l0: Any, l1: Any, l2: Any) -> np.ndarray:
    """Coefficients (a, b, c) of a + b k + c k^2 = (l0 + l1 k)^2 + (l2 k)^2, one row per event.

    >>> polynomial(np.array([1.0]), np.array([2.0]), np.array([3.0])).tolist()
    [[1.0, 4.0, 13.0]]
    """
    l0, l1, l2 = (np.asarray(v, np.float64) for v in (l0, l1, l2))
    return np.stack([l0 ** 2, 2 * l0 * l1, l1 ** 2 + l2 ** 2], axis=-1)


@functools.cache
def layers() -> dict[str, Any]:
    """The head's Keras layers, registered so that ``load(..., safe_mode=True)`` rebuilds them."""
    k = backend.keras()

    @k.saving.register_keras_serializable(package="hhnb", name="DropParameter")
    class DropParameter(k.layers.Layer):
        """Every input column but the last (kappa_lambda): what the body of a morphing network sees."""

        def call(self, x):
            return x[:, :-1]

        def compute_output_shape(self, input_shape):
            return (*input_shape[:-1], None if input_shape[-1] is None else input_shape[-1] - 1)

    @k.saving.register_keras_serializable(package="hhnb", name="MorphingLogits")
    class MorphingLogits(k.layers.Layer):
        """[coefficients (l0, l1, l2), background logits, raw inputs] -> the class logits, signal first.

        Signal logit log Q(x, k) - log N(k) (module docstring), k = the raw last input / ``scale``.
        """

        def __init__(self, scale: float = SCALE, epsilon: float = EPSILON, **kwargs):
            super().__init__(**kwargs)
            self.scale, self.epsilon = float(scale), float(epsilon)

        def build(self, input_shape):
            # N(k) = (1 + n1 k)^2 + (n2 k)^2 starts flat (n1 = n2 = 0); its scale is absorbed in u
            self.normalisation = self.add_weight(shape=(2,), name="normalisation", initializer="zeros")

        def call(self, inputs):
            coefficients, background, raw = inputs
            ops = k.ops
            kk = raw[:, -1:] / self.scale
            u, m1, m2 = coefficients[:, 0:1], coefficients[:, 1:2], coefficients[:, 2:3]
            # log Q = 2 u + log((1 + m1 k)^2 + (m2 k)^2 + eps): the scale in log space, no overflow
            shape = (1.0 + m1 * kk) ** 2 + (m2 * kk) ** 2 + self.epsilon
            n = (1.0 + self.normalisation[0] * kk) ** 2 + (self.normalisation[1] * kk) ** 2 + self.epsilon
            signal = 2.0 * u + ops.log(shape) - ops.log(n)
            return ops.concatenate([signal, background], axis=-1)

        def compute_output_shape(self, input_shape):
            return (input_shape[0][0], 1 + input_shape[1][-1])

        def get_config(self):
            return {**super().get_config(), "scale": self.scale, "epsilon": self.epsilon}

    return {"DropParameter": DropParameter, "MorphingLogits": MorphingLogits}


def body_input(x: Any) -> Any:
    """The scaled inputs without the kappa_lambda column (a Keras tensor): the body sees the features only."""
    return layers()["DropParameter"](name="drop_kappa_lambda")(x)


def head(x: Any, inputs: Any, n_classes: int) -> Any:
    """The class probabilities (layer ``probabilities``) from the body's last layer ``x`` and the raw ``inputs``."""
    k = backend.keras()
    coefficients = k.layers.Dense(3, name="morphing_coefficients")(x)
    background = k.layers.Dense(int(n_classes) - 1, name="background_logits")(x)
    logits = layers()["MorphingLogits"](name="morphing_logits")([coefficients, background, inputs])
    return k.layers.Softmax(name="probabilities")(logits)


def is_morphing(model: Any) -> bool:
    """Whether a Keras network has the morphing head."""
    return any(layer.name == "morphing_logits" for layer in model.layers)


def coefficients(model: Any, x: np.ndarray) -> np.ndarray:
    """(u, m1, m2) of each row of raw inputs ``x`` (features then kappa_lambda; the last column is ignored):
    Q = exp(2 u) [(1 + m1 k)^2 + (m2 k)^2 + eps], i.e. (l0, l1, l2) = exp(u) (1, m1, m2) (:func:`cholesky`)."""
    k = backend.keras()
    sub = k.Model(model.inputs, model.get_layer("morphing_coefficients").output)
    return predict(sub, x).astype(np.float64)


def cholesky(u: Any, m1: Any, m2: Any) -> tuple[Any, Any, Any]:
    """(l0, l1, l2) = exp(u) (1, m1, m2): the head's outputs as the Cholesky factors of Q (eps aside).

    l0 = exp(u) > 0 fixes the overall sign of (l0, l1), which would otherwise be ambiguous (a sign flip
    of the pair across phase space would have to pass through Q = 0).

    >>> [float(v) for v in cholesky(0.0, -2.0, 0.5)]
    [1.0, -2.0, 0.5]
    """
    scale = np.exp(np.asarray(u, np.float64))
    return scale, scale * m1, scale * m2


def normalisation(model: Any) -> np.ndarray:
    """(n0, n1, n2) of the trained N(k) = (n0 + n1 k)^2 + (n2 k)^2 + eps, n0 = 1."""
    n1, n2 = np.asarray(model.get_layer("morphing_logits").normalisation.numpy(), np.float64)
    return np.array([1.0, n1, n2])


def signal_odds(model: Any, x: np.ndarray, kl: np.ndarray | float) -> np.ndarray:
    """p_s / (1 - p_s) of raw feature rows ``x`` at kappa_lambda ``kl``, from the head's parts (no softmax).

    Equals Q(x, k) / (N(k) sum_j exp g_j(x)); tests compare it with the model's probabilities.
    """
    k = backend.keras()
    rows = np.column_stack([np.asarray(x, np.float32), np.broadcast_to(np.asarray(kl, np.float32), (len(x),))])
    sub = k.Model(model.inputs, model.get_layer("background_logits").output)
    g = predict(sub, rows).astype(np.float64)
    u, m1, m2 = coefficients(model, rows).T
    kk = rows[:, -1].astype(np.float64) / SCALE
    n0, n1, n2 = normalisation(model)
    q = np.exp(2 * u) * cholesky_quadratic(1.0, m1, m2, kk)
    return q / (cholesky_quadratic(n0, n1, n2, kk) * np.exp(g).sum(axis=1))
