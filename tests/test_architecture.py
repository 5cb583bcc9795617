"""The package's shape: no import cycle, imports only downward through the stages, TensorFlow behind
``hhnb.nn.backend``, deferred imports only where they keep a heavy or optional library out of a path
that does not need it, and every training default spelled in ``hhnb.config.training`` only."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "hhnb"

#: the stages, lowest first: a module imports from its own stage or a lower one only (docs/architecture.md)
STAGES = (("errors",), ("config", "layout"), ("stats",), ("io",), ("toy",), ("nn",), ("studies",), ("plots",),
          ("reports",), ("workflow",), ("commands", "cli"))
#: third-party roots that may be imported inside a function, each line saying why (``# deferred: ...``):
#: TensorFlow/Keras (backend only), ROOT's interpreter (where a file is written), the [cluster] extra,
#: papermill's engine entry point (papermill imports it while papermill.engines loads), dcor (its numba kernels
#: compile at import, one process at a time under a file lock: numba issue #10128), onnx and onnxruntime (~1 s at
#: import: only where a network is exported or scored from its .onnx file, not in the evaluate notebook's start-up)
DEFERRABLE = {"tensorflow", "keras", "ROOT", "dask_jobqueue", "papermill", "dcor", "onnx", "onnxruntime"}
TF_ROOTS = {"tensorflow", "keras", "tf2onnx"}


def _modules() -> dict[str, Path]:
    out = {}
    for p in sorted(PACKAGE.rglob("*.py")):
        parts = p.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = p
    return out


MODULES = _modules()


def _imports(path: Path) -> list[tuple[ast.stmt, list[str], bool]]:
    """(node, imported module names, run at import time) of every import statement of a file: an import
    inside a function or method is deferred, one in a module-level ``with``/``try``/``if`` block is not."""
    out: list[tuple[ast.stmt, list[str], bool]] = []

    def visit(node: ast.AST, at_import: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                out.append((child, [a.name for a in child.names], at_import))
            elif isinstance(child, ast.ImportFrom) and child.module:
                out.append((child, [child.module, *(f"{child.module}.{a.name}" for a in child.names)], at_import))
            visit(child, at_import and not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))

    visit(ast.parse(path.read_text()), True)
    return out


def _edges() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {m: set() for m in MODULES}
    for mod, path in MODULES.items():
        for _, names, _ in _imports(path):
            edges[mod] |= {n for n in names if n in MODULES and n != mod and not mod.startswith(n + ".")}
    return edges


def _stage(module: str) -> int:
    head = module.split(".")[1] if module.count(".") else ""
    for i, names in enumerate(STAGES):
        if head in names:
            return i
    raise AssertionError(f"module {module} belongs to no stage: add it to STAGES and docs/architecture.md")


def test_every_module_has_a_stage():
    for mod in MODULES:
        if mod != "hhnb":
            _stage(mod)


def test_no_import_cycle():
    edges = _edges()
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        path.append(m)
        for n in sorted(edges[m]):
            if state.get(n) == 1:
                raise AssertionError("import cycle: " + " -> ".join([*path[path.index(n):], n]))
            if n not in state:
                visit(n)
        path.pop()
        state[m] = 2

    for m in MODULES:
        if m not in state:
            visit(m)


def test_imports_go_down_the_stages_only():
    upward = [f"{m} (stage {_stage(m)}) imports {n} (stage {_stage(n)})"
              for m, targets in _edges().items() if m != "hhnb" for n in targets if n != "hhnb" and _stage(n) > _stage(m)]
    assert upward == []


def test_tensorflow_is_imported_by_the_backend_only():
    offenders = [f"{m}: {names[0]}" for m, p in MODULES.items() if m != "hhnb.nn.backend"
                 for _, names, _ in _imports(p) if names[0].split(".")[0] in TF_ROOTS]
    assert offenders == []


def test_deferred_imports_say_why_and_keep_out_a_heavy_or_optional_library():
    bad = []
    for p in MODULES.values():
        lines = p.read_text().splitlines()
        for node, names, top in _imports(p):
            if top:
                continue
            root = names[0].split(".")[0]
            if root not in DEFERRABLE or "# deferred:" not in lines[node.lineno - 1]:
                bad.append(f"{p.relative_to(PACKAGE.parent)}:{node.lineno}: {lines[node.lineno - 1].strip()}")
    assert bad == []


#: keyword names of the training settings that hhnb.config.training owns
TRAINING_SETTINGS = {"epochs", "batch_size", "learning_rate", "dropout", "widths", "optimizer", "patience",
                     "steps_per_execution", "log_inputs", "folds", "train_epochs"}


def _literal(node: ast.expr | None) -> bool:
    if node is None or (isinstance(node, ast.Constant) and node.value is None):
        return False
    return isinstance(node, (ast.Constant, ast.Tuple, ast.List)) or (
        isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.Constant))


def training_literals(path: Path) -> list[str]:
    """Places in a file that spell a value for a training setting: a default of a parameter or field, or a
    literal keyword argument."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            a = node.args
            pos = a.posonlyargs + a.args
            pairs = list(zip(pos[len(pos) - len(a.defaults):], a.defaults)) + list(zip(a.kwonlyargs, a.kw_defaults))
            out += [f"{path.name}:{d.lineno} def {node.name}({arg.arg}=...)" for arg, d in pairs
                    if arg.arg in TRAINING_SETTINGS and _literal(d)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            if node.target.id in TRAINING_SETTINGS and _literal(node.value):
                out.append(f"{path.name}:{node.lineno} field {node.target.id}")
        elif isinstance(node, ast.keyword) and node.arg in TRAINING_SETTINGS and _literal(node.value):
            out.append(f"{path.name}:{node.value.lineno} {node.arg}=...")
    return out


#: values named like a training setting that are not a default of one (module, setting): why
NOT_DEFAULTS = {
    ("hhnb.nn.apply", "folds"): "a trained network's fold count, read from its card",
    ("hhnb.nn.training", "folds"): "the fold count a finished run and its arrays hold (set by train)",
    ("hhnb.nn.onnx", "batch_size"): "events per onnxruntime call when scoring",
    ("hhnb.nn.search", "learning_rate"): "the search space's range",
    ("hhnb.nn.search", "dropout"): "the search space's range",
    ("hhnb.nn.search", "folds"): "a search scores its trials on one train/validation split",
    ("hhnb.reports.constraints", "folds"): "a network the constraints need and nobody trained: one split",
    ("hhnb.reports.decorrelation", "folds"): "the trade-off trains one train/test split per setting",
}


def _setting(entry: str) -> str:
    return entry.split()[-1].split("=")[0].split("(")[-1]


def test_training_defaults_are_spelled_in_one_place():
    found = {m: training_literals(p) for m, p in MODULES.items()}
    owner = found.pop("hhnb.config.training")
    assert {"widths", "dropout", "optimizer", "epochs", "batch_size", "patience"} <= {_setting(s) for s in owner}
    elsewhere = {m: [s for s in v if (m, _setting(s)) not in NOT_DEFAULTS] for m, v in found.items()}
    assert {m: v for m, v in elsewhere.items() if v} == {}


def test_the_learning_rate_default_is_written_once():
    """The literal itself (5e-3 in any spelling, on a line about a learning rate) in the package, its YAML and
    the notebooks' code cells."""
    import json
    import re

    number = r"(?<![\w.])(5e-3|5\.0e-3|0\.005)(?![\w])"
    spelled = re.compile(rf"(?im)^.*(learning.rate.*{number}|{number}.*learning.rate).*$")
    hits = [str(p.relative_to(PACKAGE.parent)) for p in PACKAGE.rglob("*.py") if spelled.search(p.read_text())]
    hits += [str(p.relative_to(PACKAGE.parent)) for p in PACKAGE.rglob("*.yaml") if spelled.search(p.read_text())]
    for nb in (PACKAGE.parent / "notebooks").glob("*.ipynb"):
        code = "".join("".join(c["source"]) for c in json.loads(nb.read_text())["cells"] if c["cell_type"] == "code")
        if spelled.search(code):
            hits.append(str(nb.relative_to(PACKAGE.parent)))
    assert hits == ["hhnb/config/training.py"]


def test_the_literal_check_sees_a_second_default(tmp_path):
    f = tmp_path / "m.py"
    f.write_text("def make(epochs=10, seed=1):\n    return HyperParameters(batch_size=100, dropout=None)\n")
    assert training_literals(f) == ["m.py:1 def make(epochs=...)", "m.py:2 batch_size=..."]


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m != "hhnb" and not m.endswith("__init__")))
def test_every_module_has_its_test_file(module):
    """tests/ mirrors the package: hhnb/nn/fit.py is tested in tests/nn/test_fit.py (packages: their __init__)."""
    path = MODULES[module]
    if path.name == "__init__.py":
        pytest.skip("a package, not a module")
    rel = path.relative_to(PACKAGE).with_name(f"test_{path.stem}.py")
    assert (PACKAGE.parent / "tests" / rel).exists(), f"{module} has no test file tests/{rel}"
