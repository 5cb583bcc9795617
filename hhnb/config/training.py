"""The training defaults, in one place: every network hhnb trains starts from :class:`HyperParameters`.

A caller that leaves a setting unset (``None``: a notebook parameter, a report argument, an option of
``hhnb search``, an analysis without ``learning_rate`` in its YAML) gets the value here; nothing else in
hhnb spells a default of its own (tests/config/test_training.py asserts it). The notebooks train with
smaller, faster settings that they pass explicitly and name in their parameters cell. The card of every
network records the values used (``hyperparameters``) and those that differ from these defaults
(``hyperparameters_changed``). Plain data, no TensorFlow: the Keras side is :mod:`hhnb.nn`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

from hhnb.errors import UserArgumentError

#: the batch size at which learning rates are quoted (the analyses' ``learning_rate``, :data:`LEARNING_RATE`)
REFERENCE_BATCH = 100
#: the learning rate quoted at :data:`REFERENCE_BATCH` when an analysis sets none (Adamax; on the toy
#: analyses 5e-3 beats 1e-3 and 5e-5 within 20 epochs, benchmarks/bench_train.py)
LEARNING_RATE = 5e-3
#: networks of a k-fold set (``event % k``): what train.ipynb, the demo, the sweeps and the nbval set-up train
FOLDS = 3


#: how a training keeps its score independent of the masses (hhnb.nn.decorrelation)
DECORRELATION_METHODS = ("none", "disco", "flat")


@dataclass(frozen=True)
class Decorrelation:
    """A training option: ``disco`` (strength x dCor^2 of p_sig and the masses on each batch's background) or
    ``flat`` (background mass distributions flattened in ``bins`` quantile bins); ``masses``: the columns
    (empty: the analysis' ``decorrelate``). Recorded on the card as ``decorrelation``.

    >>> Decorrelation("disco", strength=10.0).as_dict()
    {'method': 'disco', 'strength': 10.0, 'masses': [], 'bins': 20}
    """

    method: str = "none"
    strength: float = 0.0
    masses: tuple[str, ...] = ()
    bins: int = 20

    def __post_init__(self) -> None:
        if self.method not in DECORRELATION_METHODS:
            raise UserArgumentError(f"decorrelation {self.method!r}: expected one of {', '.join(DECORRELATION_METHODS)}")
        if isinstance(self.strength, bool) or not isinstance(self.strength, (int, float)) or self.strength < 0:
            raise UserArgumentError(f"decorrelation strength={self.strength!r}: expected a number >= 0")
        if isinstance(self.bins, bool) or not isinstance(self.bins, int) or self.bins < 2:
            raise UserArgumentError(f"decorrelation bins={self.bins!r}: expected an integer >= 2")
        object.__setattr__(self, "masses", tuple(self.masses))

    def as_dict(self) -> dict[str, Any]:
        return {"method": self.method, "strength": float(self.strength), "masses": list(self.masses), "bins": self.bins}


def scaled_learning_rate(learning_rate: float, batch_size: int, reference_batch: int = REFERENCE_BATCH) -> float:
    """The learning rate for ``batch_size`` from one quoted at ``reference_batch``: x sqrt(batch ratio).

    Square-root scaling keeps the gradient noise per unit of training time about equal for Adam-type
    optimisers (Hoffer et al., NeurIPS 2017, arXiv:1705.08741); checked on the toy analyses in
    benchmarks/bench_train.py (test AUC at batch 1000 vs 100).

    >>> round(scaled_learning_rate(5e-3, 1000), 6)
    0.015811
    >>> scaled_learning_rate(5e-3, 100)
    0.005
    """
    return float(learning_rate) if batch_size == reference_batch else float(
        learning_rate * math.sqrt(batch_size / reference_batch))


@dataclass(frozen=True)
class HyperParameters:
    """What defines one training: architecture, optimiser and schedule; its field defaults are hhnb's defaults.

    ``learning_rate=None`` (the default): :data:`LEARNING_RATE`, quoted at batch :data:`REFERENCE_BATCH`,
    scaled to ``batch_size`` by :func:`scaled_learning_rate` (batch 1000: 5e-3 x sqrt(10)); :meth:`scaled` does
    the same for a rate quoted by an analysis. Heavy-tailed inputs enter as log(1 + x) before the scaling;
    up to 50 epochs with patience 10.

    >>> h = HyperParameters()
    >>> h.epochs, h.batch_size, round(h.learning_rate, 6)
    (50, 1000, 0.015811)
    >>> HyperParameters(batch_size=100).learning_rate
    0.005
    """

    widths: tuple[int, ...] = (200, 200)
    dropout: float = 0.3
    learning_rate: float | None = None
    optimizer: str = "adamax"
    epochs: int = 50
    batch_size: int = 1000
    patience: int = 10
    #: training steps run inside one TensorFlow call (:mod:`hhnb.nn.loop`): fewer host round trips per
    #: epoch; the same batches in the same order, so the weights are bit-identical to 1 (tests/nn/test_fit.py)
    steps_per_execution: int = 64
    #: non-negative inputs with skewness > 1 and > 50 distinct values (pT, masses, energies) enter as
    #: log(1 + x), inside the model (layer ``log_inputs``, before ``scaling``): apply and ONNX see raw inputs
    log_inputs: bool = True

    @classmethod
    def scaled(cls, learning_rate: float | None, **kwargs: Any) -> HyperParameters:
        """Hyper-parameters with ``learning_rate`` (quoted at batch 100; None: :data:`LEARNING_RATE`) scaled to the
        batch size used; ``None`` values in ``kwargs`` mean the default."""
        given = {k: v for k, v in kwargs.items() if v is not None}
        batch = int(given.get("batch_size", cls.batch_size))
        return cls(learning_rate=scaled_learning_rate(LEARNING_RATE if learning_rate is None else learning_rate, batch),
                   **given)

    def __post_init__(self) -> None:
        if self.learning_rate is None:
            object.__setattr__(self, "learning_rate", scaled_learning_rate(LEARNING_RATE, self.batch_size)
                               if isinstance(self.batch_size, int) and self.batch_size > 0 else LEARNING_RATE)
        if isinstance(self.widths, list):
            object.__setattr__(self, "widths", tuple(self.widths))
        checks = {
            "epochs": (int, 1, None), "batch_size": (int, 1, None), "patience": (int, 0, None),
            "steps_per_execution": (int, 1, None),
            "dropout": (float, 0.0, 0.95), "learning_rate": (float, 1e-12, 10.0),
        }
        for name, (kind, lo, hi) in checks.items():
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or (kind is int and int(v) != v):
                raise UserArgumentError(f"hyper-parameter {name}={v!r}: expected {'an integer' if kind is int else 'a number'}")
            if v < lo or (hi is not None and v > hi):
                raise UserArgumentError(f"hyper-parameter {name}={v!r}: expected a value in [{lo}, {hi if hi else 'inf'}]")
        widths = self.widths
        if not widths or any(isinstance(w, bool) or not isinstance(w, (int, float)) or w < 1 or int(w) != w
                             for w in widths):
            raise UserArgumentError(f"hyper-parameter widths={widths!r}: expected a list of positive integers, e.g. [200, 200]")
        if not isinstance(self.log_inputs, bool):
            raise UserArgumentError(f"hyper-parameter log_inputs={self.log_inputs!r}: expected true or false")
        if not isinstance(self.optimizer, str):
            raise UserArgumentError(f"hyper-parameter optimizer={self.optimizer!r}: expected a name such as 'adamax'")

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["widths"] = list(self.widths)
        return d

    def changed(self) -> dict[str, Any]:
        """The settings that differ from the defaults (the card's ``hyperparameters_changed``).

        >>> HyperParameters(epochs=10, batch_size=100).changed()
        {'epochs': 10, 'batch_size': 100, 'learning_rate': 0.005}
        """
        default = HyperParameters()
        mine = self.as_dict()
        out = {f.name: mine[f.name] for f in fields(self) if f.name != "learning_rate"
               and mine[f.name] != default.as_dict()[f.name]}
        if not math.isclose(self.learning_rate, default.learning_rate):
            out["learning_rate"] = self.learning_rate
        return out


def parse_decorrelation(text: str) -> Decorrelation:
    """``none``, ``flat`` or ``disco:STRENGTH`` -> the training option.

    >>> parse_decorrelation("disco:10").as_dict()["strength"], parse_decorrelation("flat").method
    (10.0, 'flat')
    """
    method, _, strength = text.strip().partition(":")
    if method == "disco" and not strength:
        raise UserArgumentError("decorrelation disco needs its strength, e.g. disco:10")
    if method != "disco" and strength:
        raise UserArgumentError(f"decorrelation {text!r}: only disco takes a strength (disco:10)")
    try:
        value = float(strength) if strength else 0.0
    except ValueError:
        raise UserArgumentError(f"decorrelation {text!r}: the strength must be a number, e.g. disco:10") from None
    return Decorrelation(method, value)
