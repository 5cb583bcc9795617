"""ONNX export of the networks and scoring with onnxruntime (no TensorFlow needed to score).

A ``.onnx`` file is written beside each ``.keras`` file (one per fold of a k-fold set: each
file has the same interface, ``features`` (batch x n_inputs, float32) in and
``probabilities`` (batch x n_classes) out, so a C++ framework picks the file by
``event % k`` as it would pick a branch). The feature scaling is inside the graph (it is a
layer of the Keras network); the batch dimension is dynamic. The converter is Keras 3's
``Model.export(format="onnx")`` (tf2onnx underneath). The feature names are stored in the
file's metadata (``hhnb_features``) so a mismatch with a config is caught before scoring.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hhnb.errors import MissingArtifactError, OnnxInputError
from hhnb.io.atomic import atomic_path
from hhnb.nn import backend
from hhnb.nn.predict import predict as keras_predict
from hhnb.nn.saving import load

INPUT = "features"
OUTPUT = "probabilities"
OPSET = 17
META_FEATURES = "hhnb_features"
META_CLASSES = "hhnb_classes"


def export_model(model: Any, path: str | Path, features: Sequence[str] | None = None,
                 classes: Sequence[str] | None = None, opset: int = OPSET) -> Path:
    """Write ``model`` (a Keras network, scaling included) as ONNX at ``path`` (atomically)."""
    k = backend.keras()
    path = Path(path)
    n = int(model.input_shape[-1])
    spec = [k.InputSpec(shape=(None, n), dtype="float32", name=INPUT)]
    with atomic_path(path) as tmp:
        real = tmp.with_name(tmp.name + ".onnx")
        with backend.quiet_stderr():
            model.export(str(real), format="onnx", verbose=False, input_signature=spec, opset_version=opset)
        import onnx  # deferred: onnx (~1 s at import) only where a file is exported

        proto = onnx.load(str(real))
        real.unlink()
        _freeze_scaling(proto, model)
        _name_io(proto)
        meta = {META_FEATURES: json.dumps(list(features)) if features is not None else None,
                META_CLASSES: json.dumps(list(classes)) if classes is not None else None}
        for key, value in meta.items():
            if value is not None:
                entry = proto.metadata_props.add()
                entry.key, entry.value = key, value
        onnx.checker.check_model(proto)
        onnx.save(proto, str(tmp))
        _check_round_trip(model, tmp)
    return path


def _check_round_trip(model: Any, path: Path, events: int = 1000, tolerance: float = 1e-5) -> None:
    """Score a seeded probe batch with Keras and onnxruntime; refuse the file if they differ."""
    n = int(model.input_shape[-1])
    scaling = [layer for layer in model.layers if type(layer).__name__ == "Normalization"]
    mean = np.asarray(scaling[0].mean, np.float32).reshape(-1) if scaling else np.zeros(n, np.float32)
    std = np.sqrt(np.asarray(scaling[0].variance, np.float32).reshape(-1)) if scaling else np.ones(n, np.float32)
    x = (mean + std * np.random.default_rng(0).normal(size=(events, n))).astype(np.float32)
    diff = float(np.abs(predict(session(path), x) - keras_predict(model, x)).max())
    if not diff <= tolerance:
        raise RuntimeError(f"ONNX export of {path.name}: onnxruntime and Keras differ by {diff:.2e} (> {tolerance})")


def _freeze_scaling(proto: Any, model: Any) -> None:
    """Make the scaling layer's mean and variance constants of the graph.

    tf2onnx leaves the Normalization layer's adapted mean and variance (tensors captured by
    the traced function, not variables) as extra graph inputs without values; they become
    initializers here: the input a ``Sub`` node reads is the mean, the one ``Sqrt`` reads the variance
    (inputs read by no node are dropped). The round trip is checked numerically after export.
    """
    import onnx  # deferred: onnx (~1 s at import) only where a file is exported

    graph = proto.graph
    known = {i.name for i in graph.initializer}
    loose = [i.name for i in graph.input if i.name not in known][1:]
    if not loose:
        return
    scaling = [layer for layer in model.layers if type(layer).__name__ == "Normalization"]
    if len(scaling) != 1:
        raise RuntimeError(f"ONNX export: graph inputs {loose} have no values and the model has no single scaling layer")
    values = {"Sub": np.asarray(scaling[0].mean, np.float32), "Sqrt": np.asarray(scaling[0].variance, np.float32)}
    for name in loose:
        ops = {n.op_type for n in graph.node if name in n.input}
        if not ops:  # read by nothing (tf2onnx folded what used it): dropped below
            continue
        op = next((o for o in ops if o in values), None)
        if op is None:
            raise RuntimeError(f"ONNX export: graph input {name!r} (read by {sorted(ops)}) has no value")
        graph.initializer.append(onnx.numpy_helper.from_array(values[op].reshape(
            [d.dim_value for d in next(i for i in graph.input if i.name == name).type.tensor_type.shape.dim]), name))
    keep = [i for i in graph.input if i.name not in loose]
    del graph.input[:]
    graph.input.extend(keep)


def _name_io(proto: Any) -> None:
    """Rename the graph's single input and output to ``features`` / ``probabilities``."""
    graph = proto.graph
    renames = {graph.input[0].name: INPUT, graph.output[0].name: OUTPUT}
    for node in graph.node:
        node.input[:] = [renames.get(v, v) for v in node.input]
        node.output[:] = [renames.get(v, v) for v in node.output]
    graph.input[0].name = INPUT
    graph.output[0].name = OUTPUT
    for value in (graph.input[0], graph.output[0]):  # the dynamic batch dimension gets a readable name
        value.type.tensor_type.shape.dim[0].dim_param = "batch"


def card_entry(paths: Sequence[Path], features: Sequence[str], classes: Sequence[str]) -> dict[str, Any]:
    """What the model card records of the ONNX files: names, tensors, shapes, opset."""
    return {"files": [Path(p).name for p in paths], "input": INPUT, "output": OUTPUT,
            "input_shape": ["batch", len(features)], "output_shape": ["batch", len(classes)],
            "dtype": "float32", "opset": OPSET, "scaling": "inside the graph",
            "metadata": {META_FEATURES: "JSON list of the input features in order", META_CLASSES: "JSON list"}}


def session(path: str | Path, threads: int | None = None):
    """An onnxruntime inference session on CPU (``threads`` intra-op threads; default: onnxruntime's)."""
    path = Path(path)
    if not path.exists():
        raise MissingArtifactError(f"ONNX file {path} does not exist: run hhnb export (or train with export_onnx=True)")
    import onnxruntime as ort  # deferred: onnxruntime (~1 s with onnx) only where a file is scored

    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    if threads:
        opts.intra_op_num_threads = int(threads)
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])


def check_inputs(sess: Any, features: Sequence[str], path: str | Path) -> None:
    """Refuse an ONNX file whose input differs from ``features`` (count, and names when recorded)."""
    inputs = sess.get_inputs()
    if len(inputs) != 1:
        raise OnnxInputError(f"ONNX file {path}: expected one input tensor {INPUT!r}, found "
                             f"{', '.join(i.name for i in inputs)}")
    width = inputs[0].shape[-1]
    if isinstance(width, int) and width != len(features):
        raise OnnxInputError(f"ONNX file {path}: input {inputs[0].name!r} takes {width} features, the config "
                             f"has {len(features)} ({', '.join(features)})")
    recorded = sess.get_modelmeta().custom_metadata_map.get(META_FEATURES)
    if recorded is not None and json.loads(recorded) != list(features):
        got = json.loads(recorded)
        diff = [f"{a}!={b}" for a, b in zip(got, features) if a != b][:3]
        raise OnnxInputError(f"ONNX file {path}: its inputs are {got} but the config's features are {list(features)}"
                             + (f" (first differences: {', '.join(diff)})" if diff else ""))


def predict(sess: Any, x: np.ndarray, batch_size: int = 65536) -> np.ndarray:
    """Class probabilities for raw (unscaled) inputs with onnxruntime, in batches."""
    x = np.asarray(x, dtype=np.float32)
    name = sess.get_inputs()[0].name
    if len(x) == 0:
        return np.zeros((0, int(sess.get_outputs()[0].shape[-1])), np.float32)
    out = [sess.run(None, {name: x[start:start + batch_size]})[0] for start in range(0, len(x), batch_size)]
    return np.concatenate(out)


def export(model_paths: Sequence[str | Path], features: Sequence[str], classes: Sequence[str]) -> list[Path]:
    """``<model>.onnx`` beside each ``.keras`` file (what ``hhnb export`` does)."""
    return [export_model(load(p), Path(p).with_suffix(".onnx"), features, classes) for p in model_paths]
