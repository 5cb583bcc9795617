"""The Keras network: scaling inside the model, build, train, save and load (never unpickled).

TensorFlow is imported only here, and only when a function needs it, so notebooks
that read saved scores start in a second.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hhnb.io.atomic import atomic_path
from hhnb.nn import loop as _loop
from hhnb.nn import progress as _progress


@contextlib.contextmanager
def _quiet_stderr():
    """Silence C++ log lines written straight to file descriptor 2 (TensorFlow's start-up chatter).

    They carry timestamps and PIDs, which would make notebook outputs differ between runs.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


#: optional imports TensorFlow and Keras try at start-up and hhnb never uses through them: ``tf.lite``'s
#: JAX-to-TFLite conversion (jax) and Keras' scikit-learn wrappers (sklearn). Hidden during the import
#: (each is tried under ``except ImportError``), they cost no memory there: about 200 MB less resident
#: memory per TensorFlow process (benchmarks/bench_apply.py, peak RSS row); imported later, they load normally.
_SKIPPED_AT_TF_IMPORT = ("jax", "sklearn")


@contextlib.contextmanager
def _without(modules: tuple[str, ...]):
    """Make ``import m`` raise ImportError for ``modules`` not yet imported, for the duration of the block."""
    hidden = [m for m in modules if m not in sys.modules]
    for m in hidden:
        sys.modules[m] = None  # type: ignore[assignment]  # the import system's "not importable" marker
    try:
        yield
    finally:
        for m in hidden:
            if m in sys.modules and sys.modules[m] is None:
                del sys.modules[m]


@functools.cache
def keras():
    """Import Keras (TensorFlow backend) quietly; TensorFlow uses a GPU if one is visible."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    with _quiet_stderr(), _without(_SKIPPED_AT_TF_IMPORT):
        import keras as _keras  # noqa: PLC0415
        import tensorflow as tf  # noqa: PLC0415

        for var, setter in (("TF_NUM_INTRAOP_THREADS", tf.config.threading.set_intra_op_parallelism_threads),
                            ("TF_NUM_INTEROP_THREADS", tf.config.threading.set_inter_op_parallelism_threads)):
            if os.environ.get(var, "").isdigit():  # e.g. set per Dask worker by hhnb sweep
                setter(int(os.environ[var]))
        tf.config.list_physical_devices()
        tf.get_logger().setLevel("ERROR")
    _keras.utils.disable_interactive_logging()
    return _keras


def devices() -> list[str]:
    """The devices TensorFlow sees (``CPU:0``, ``GPU:0`` ...)."""
    keras()
    import tensorflow as tf  # noqa: PLC0415

    return [d.name.replace("/physical_device:", "") for d in tf.config.list_physical_devices()]


#: the batch size at which the analyses' learning rates (``analyses.yaml``) are quoted
REFERENCE_BATCH = 100


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
        learning_rate * np.sqrt(batch_size / reference_batch))


@dataclass(frozen=True)
class HyperParameters:
    """What defines one training: architecture, optimiser and schedule.

    Defaults (issue 17): batch 1000 at the learning rate 5e-3 quoted for batch 100 scaled by
    sqrt(10) (:func:`scaled_learning_rate`; :meth:`scaled` does this for any rate and batch),
    heavy-tailed inputs as log(1 + x) before the scaling, up to 50 epochs with patience 10.
    """

    widths: tuple[int, ...] = (200, 200)
    dropout: float = 0.3
    learning_rate: float = scaled_learning_rate(5e-3, 1000)
    optimizer: str = "adamax"
    epochs: int = 50
    batch_size: int = 1000
    patience: int = 10
    #: training steps run inside one TensorFlow call (:mod:`hhnb.nn.loop`): fewer host round trips per
    #: epoch; the same batches in the same order, so the weights are bit-identical to 1 (tests/test_model.py)
    steps_per_execution: int = 64
    #: non-negative inputs with skewness > 1 and > 50 distinct values (pT, masses, energies) enter as
    #: log(1 + x), inside the model (layer ``log_inputs``, before ``scaling``): apply and ONNX see raw inputs
    log_inputs: bool = True

    @classmethod
    def scaled(cls, learning_rate: float, **kwargs: Any) -> HyperParameters:
        """Hyper-parameters with ``learning_rate`` (quoted at batch 100) scaled to the batch size used."""
        batch = int(kwargs.get("batch_size", cls.batch_size))
        return cls(learning_rate=scaled_learning_rate(learning_rate, batch), **kwargs)

    def __post_init__(self) -> None:
        checks = {
            "epochs": (int, 1, None), "batch_size": (int, 1, None), "patience": (int, 0, None),
            "steps_per_execution": (int, 1, None),
            "dropout": (float, 0.0, 0.95), "learning_rate": (float, 1e-12, 10.0),
        }
        for name, (kind, lo, hi) in checks.items():
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or (kind is int and int(v) != v):
                raise ValueError(f"hyper-parameter {name}={v!r}: expected {'an integer' if kind is int else 'a number'}")
            if v < lo or (hi is not None and v > hi):
                raise ValueError(f"hyper-parameter {name}={v!r}: expected a value in [{lo}, {hi if hi else 'inf'}]")
        widths = self.widths
        if not widths or any(isinstance(w, bool) or not isinstance(w, (int, float)) or w < 1 or int(w) != w
                             for w in widths):
            raise ValueError(f"hyper-parameter widths={widths!r}: expected a list of positive integers, e.g. [200, 200]")
        if not isinstance(self.log_inputs, bool):
            raise ValueError(f"hyper-parameter log_inputs={self.log_inputs!r}: expected true or false")
        if not isinstance(self.optimizer, str):
            raise ValueError(f"hyper-parameter optimizer={self.optimizer!r}: expected a name such as 'adamax'")

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["widths"] = list(self.widths)
        return d


@dataclass(frozen=True)
class TrainResult:
    """A trained network and how it got there."""

    model: Any
    history: dict[str, list[float]]
    train_time_s: float
    epochs_run: int
    hyper: HyperParameters
    #: seconds from the start of ``fit`` to the end of each epoch: the first holds the one-time graph tracing,
    #: the differences after it are the steady per-epoch cost (benchmarks/bench_train.py)
    epoch_ends_s: tuple[float, ...] = ()

    @property
    def steady_epoch_s(self) -> float:
        """Median seconds per epoch after the first (no tracing); nan with fewer than 2 epochs."""
        return float(np.median(np.diff(self.epoch_ends_s))) if len(self.epoch_ends_s) > 1 else float("nan")


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow, and make TensorFlow ops deterministic."""
    k = keras()
    k.utils.set_random_seed(int(seed))
    import tensorflow as tf  # noqa: PLC0415

    try:
        tf.config.experimental.enable_op_determinism()
    except Exception:  # pragma: no cover - older TF
        pass


def heavy_tailed_columns(x: np.ndarray, min_skew: float = 1.0, min_distinct: int = 50) -> tuple[int, ...]:
    """Columns of ``x`` that are non-negative, continuous and right-skewed (pT, mass, energy-like).

    Skewness is the third standardised moment, g1 = m3 / m2^1.5 (``scipy.stats.skew``, biased
    estimator; an exponential variable has 2).

    >>> rng = np.random.default_rng(0)
    >>> heavy_tailed_columns(np.c_[rng.exponential(size=500), rng.normal(size=500), rng.integers(0, 3, 500)])
    (0,)
    """
    from scipy import stats  # noqa: PLC0415

    x = np.asarray(x, np.float64)
    if len(x) < 3:
        return ()
    candidates = [j for j in range(x.shape[1])
                  if x[:, j].min() >= 0 and len(np.unique(x[:5000, j])) > min_distinct]
    if not candidates:
        return ()
    # constant columns give nan (never > min_skew); the candidates have > min_distinct values anyway
    skew = stats.skew(x[:, candidates], axis=0)
    return tuple(j for j, g in zip(candidates, skew) if g > min_skew)


def log_columns(x: np.ndarray, columns: tuple[int, ...]) -> np.ndarray:
    """``x`` with log(1 + max(x, 0)) in ``columns``, as the ``log_inputs`` layer computes it (float32)."""
    x = np.array(x, np.float32)
    if columns:
        cols = list(columns)
        x[:, cols] = np.log(np.maximum(x[:, cols], np.float32(0)) + np.float32(1))
    return x


@functools.cache
def _log_layer():
    """The ``LogColumns`` layer class, registered so that ``load(..., safe_mode=True)`` rebuilds it."""
    k = keras()

    @k.saving.register_keras_serializable(package="hhnb", name="LogColumns")
    class LogColumns(k.layers.Layer):
        """log(1 + max(x, 0)) of the input columns ``columns`` (of ``n_inputs``), the others unchanged."""

        def __init__(self, columns=(), n_inputs: int = 0, **kwargs):
            super().__init__(**kwargs)
            self.columns = [int(c) for c in columns]
            self.n_inputs = int(n_inputs)
            self._mask = np.isin(np.arange(self.n_inputs), self.columns)

        def call(self, x):
            ops = k.ops
            # log(1 + x) rather than log1p: tf2onnx has no Log1p (ONNX export)
            return ops.where(ops.convert_to_tensor(self._mask), ops.log(ops.maximum(x, 0.0) + 1.0), x)

        def compute_output_shape(self, input_shape):
            return input_shape

        def get_config(self):
            return {**super().get_config(), "columns": self.columns, "n_inputs": self.n_inputs}

    return LogColumns


def build(x_train: np.ndarray, n_classes: int, hyper: HyperParameters, head: str = "dense"):
    """Input -> [log(1 + x) of heavy-tailed columns] -> Normalization (adapted on the training set) -> Dense -> softmax.

    ``head="morphing"`` (a parameterised network, :mod:`hhnb.nn.morphing`): the dense layers see every input but
    the last (kappa_lambda), which enters only the head (signal odds a ratio of quadratics in kappa_lambda).
    """
    k = keras()
    inputs = k.Input(shape=(x_train.shape[1],), name="features")
    x = inputs
    columns = heavy_tailed_columns(x_train) if hyper.log_inputs else ()
    if columns:
        x = _log_layer()(columns, x_train.shape[1], name="log_inputs")(x)
    norm = k.layers.Normalization(name="scaling")
    norm.adapt(log_columns(x_train, columns))
    x = norm(x)
    if head == "morphing":
        from hhnb.nn import morphing  # noqa: PLC0415

        x = morphing.body_input(x)
    for i, width in enumerate(hyper.widths):
        x = k.layers.Dense(int(width), activation="relu", name=f"dense_{i}")(x)
        if i == 0 and hyper.dropout > 0:
            x = k.layers.Dropout(hyper.dropout, name="dropout")(x)
    outputs = (morphing.head(x, inputs, n_classes) if head == "morphing"
               else k.layers.Dense(n_classes, activation="softmax", name="probabilities")(x))
    model = k.Model(inputs, outputs, name="hhnb_classifier")
    optimizers = {"adamax": k.optimizers.Adamax, "adam": k.optimizers.Adam, "sgd": k.optimizers.SGD,
                  "rmsprop": k.optimizers.RMSprop, "nadam": k.optimizers.Nadam}
    if hyper.optimizer.lower() not in optimizers:
        raise ValueError(f"unknown optimizer {hyper.optimizer!r}: expected one of {', '.join(optimizers)}")
    model.compile(optimizer=optimizers[hyper.optimizer.lower()](learning_rate=hyper.learning_rate),
                  loss="sparse_categorical_crossentropy", steps_per_execution=int(hyper.steps_per_execution))
    return model


def logged_inputs(model) -> list[int]:
    """Indices of the inputs a network takes as log(1 + x) (empty for networks without the layer)."""
    for layer in model.layers:
        if layer.name == "log_inputs":
            return list(layer.get_config()["columns"])
    return []


def class_balanced_weights(labels: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Per-event training weights: every class with the same total, scaled to mean 1.

    (Adam-type optimisers are invariant to the overall scale; mean 1 keeps the loss readable.) Signed
    weights pass as they are: the ``negative_weights`` policy is applied before (``training.training_weights``).

    >>> w = class_balanced_weights(np.array([0, 0, 1]), np.array([1.0, 1.0, 5.0]))
    >>> [round(float(v), 3) for v in w]
    [0.75, 0.75, 1.5]
    """
    labels = np.asarray(labels)
    weights = np.asarray(weights, float)
    out = np.zeros_like(weights)
    for c in np.unique(labels):
        m = labels == c
        out[m] = weights[m] / weights[m].sum()
    return out / out.mean()


def fit(x: np.ndarray, y: np.ndarray, sample_weight: np.ndarray, x_val: np.ndarray, y_val: np.ndarray,
        w_val: np.ndarray, n_classes: int, hyper: HyperParameters, seed: int = 1,
        progress: bool | str = "auto", label: str = "", head: str = "dense", restore_best: bool = True) -> TrainResult:
    """Build and train with early stopping on the validation set (best weights restored).

    The loop is :func:`hhnb.nn.loop.train` (Keras layers, loss, optimizer and callbacks; batches cut inside
    TensorFlow); ``hyper.steps_per_execution`` training steps run per TensorFlow call (any value learns the
    same weights, only the host round trips differ).

    ``progress``: one line per epoch (True), none (False), or ``"auto"``: only in JupyterLab or a
    terminal, never under papermill, nbval or pytest (see :mod:`hhnb.nn.progress`); ``label``: a line
    printed before the epoch lines when they are shown (which network of a k-fold set); ``head``: see :func:`build`;
    ``restore_best=False``: keep the last epoch's weights (the validation loss still stops the training).
    """
    k = keras()
    set_seed(seed)
    model = build(x, n_classes, hyper, head)
    stop = k.callbacks.EarlyStopping(monitor="val_loss", patience=hyper.patience, restore_best_weights=restore_best)
    # the validation loss comes from the forward pass predict() uses, not from Keras' evaluate: no second
    # training-style graph to trace per fit (about 1 s of each fit's fixed cost, benchmarks/bench_train.py)
    val = _validation_loss()(x_val, y_val, w_val)
    t0 = time.perf_counter()
    ends: list[float] = []
    clock = k.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: ends.append(time.perf_counter() - t0))
    logged = _loop.train(model, x.astype("float32"), y, sample_weight.astype("float32"), epochs=hyper.epochs,
                        batch_size=hyper.batch_size, steps_per_execution=hyper.steps_per_execution, seed=seed,
                        callbacks=[val, stop, clock,
                                   *([_progress.callback(hyper.epochs, label=label)] if _progress.enabled(progress)
                                     else [])])
    elapsed = time.perf_counter() - t0
    history = {key: [float(v) for v in vals] for key, vals in logged.items()}
    return TrainResult(model, history, elapsed, len(history.get("loss", [])), hyper, tuple(ends))


def validation_loss(probs: np.ndarray, y: np.ndarray, w: np.ndarray, eps: float = 1e-7) -> float:
    """Weighted sparse categorical cross-entropy as Keras reports it: mean over events of w * -log p(true class).

    Probabilities are clipped to [eps, 1 - eps] as Keras does.

    >>> round(validation_loss(np.array([[0.5, 0.5], [0.9, 0.1]]), np.array([0, 0]), np.array([1.0, 2.0])), 4)
    0.4519
    """
    p = np.clip(np.asarray(probs, np.float64)[np.arange(len(y)), np.asarray(y, int)], eps, 1.0 - eps)
    return float(np.mean(np.asarray(w, np.float64) * -np.log(p)))


@functools.cache
def _validation_loss():
    """A Keras callback class writing ``val_loss`` into the epoch's logs before early stopping reads it."""
    k = keras()

    class ValidationLoss(k.callbacks.Callback):
        def __init__(self, x, y, w):
            super().__init__()
            self.x, self.y, self.w = np.asarray(x, np.float32), np.asarray(y), np.asarray(w, np.float64)

        def on_epoch_end(self, epoch, logs=None):
            if logs is not None:
                logs["val_loss"] = validation_loss(predict(self.model, self.x), self.y, self.w)

    return ValidationLoss


#: events per forward pass in :func:`predict`: activations of 8192 x 200 floats stay in the CPU caches and
#: the peak memory of apply stays low; as fast as 65536 or faster (benchmarks/bench_apply.py, peak RSS row)
PREDICT_BATCH = 8192


def predict(model, x: np.ndarray, batch_size: int = PREDICT_BATCH) -> np.ndarray:
    """Class probabilities for raw (unscaled) inputs, in batches, without Keras' progress output."""
    import tensorflow as tf  # noqa: PLC0415

    x = np.asarray(x, dtype=np.float32)
    if len(x) == 0:
        return np.zeros((0, int(model.output_shape[-1])), np.float32)
    out = []
    fn = _compiled(model)
    for start in range(0, len(x), batch_size):
        out.append(fn(tf.constant(x[start:start + batch_size])).numpy())
    return np.concatenate(out)


def _compiled(model):
    """The model's graph-compiled forward pass, kept on the model itself (it dies with the model).

    Traced once for any number of events (input signature ``[None, n_inputs]``), not once per batch shape.
    """
    import tensorflow as tf  # noqa: PLC0415

    fn = getattr(model, "_hhnb_predict", None)
    if fn is None:
        spec = tf.TensorSpec([None, int(model.input_shape[-1])], tf.float32)
        fn = tf.function(lambda t: model(t, training=False), input_signature=[spec])
        model._hhnb_predict = fn
    return fn


def save(model, path: str | Path) -> Path:
    """Save a ``.keras`` file atomically (temporary name, then rename)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        real = tmp.with_name(tmp.name + ".keras")
        model.save(real)
        os.replace(real, tmp)
    return path


def load(path: str | Path):
    """Load a ``.keras`` model with ``safe_mode=True`` (no arbitrary code, nothing unpickled)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"model file {path} does not exist")
    _log_layer()  # registers the custom layers before Keras reads the file
    from hhnb.nn import morphing  # noqa: PLC0415

    morphing.layers()
    return keras().models.load_model(path, compile=False, safe_mode=True)


def versions() -> dict[str, str]:
    """Versions of the packages a model depends on, for its card."""
    import importlib.metadata as md  # noqa: PLC0415

    out = {}
    for name in ("hhnb", "tensorflow", "keras", "numpy", "uproot"):
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            pass
    return out
