"""Apply trained networks to ntuples: score branches written into copies of the ROOT files.

For every input ``<stem>.root`` the output ``layout.applied_path`` holds every original
branch unchanged plus, for each network, its score branches (``layout.score_branches``) as
float32 and its test-set flag (``layout.istest_branch``, int32: 1 = an event of the network's
test set, never trained on; 0 = the network may have seen it). For a k-fold set (card ``folds``
= k >= 2) each event is scored by the one network that never saw its fold ``event % k``, and
``layout.fold_branch`` (int32) says which. Each event is scored once whatever k.
A network parameterised in kappa_lambda (card ``lambda`` = ``param``) writes its scores at each
requested lambda under that lambda's usual branch names (``layout.score_branches(analysis, kl, ...)``),
one input column ``kappa_lambda`` set to the lambda (:mod:`hhnb.nn.parameterised`).
``backend="onnx"`` scores the ``.onnx`` files with onnxruntime and never imports TensorFlow.
Files are read, scored and written in chunks, so memory stays flat whatever the file size;
outputs are written to a temporary name and renamed when complete.
"""

from __future__ import annotations

import errno
import fnmatch
import functools
import glob
import json
import multiprocessing as mp
import os
import queue
import re
import shutil
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import uproot
from tqdm.auto import tqdm

from hhnb import layout
from hhnb.config import lambdas as _lambdas
from hhnb.errors import InputFileError, MissingArtifactError, MissingInputFile, UnwritableOutput, UserArgumentError
from hhnb.io import expressions, rootcopy
from hhnb.io import ntuples as data
from hhnb.io.atomic import atomic_path
from hhnb.nn import onnx, saving
from hhnb.nn.predict import predict

SUFFIX = layout.APPLIED_SUFFIX
BACKENDS = ("keras", "onnx")
_FOLD_FILE = re.compile(r"_fold\d+of\d+$")
STEP = 200_000  # events per chunk: about 8 MB per float64 branch
#: networks kept loaded (each about 1 MB with its traced forward pass): more than one apply usually holds
#: (15 lambdas x 3 folds = 45), so that every chunk of a file reuses them; with fewer, each chunk would
#: reload every network and memory would grow with the number of chunks (benchmarks/bench_apply.py)
MODEL_CACHE = 64


@dataclass(frozen=True)
class Network:
    """One trained network as apply needs it: its model file and what its card says."""

    analysis: str
    kl: float | str  # layout.PARAM for a parameterised network
    model_path: Path
    features: tuple[str, ...]
    classes: tuple[str, ...]
    score_branches: tuple[str, ...]
    test_branch: str
    tree: str
    event_branch: str | None
    folds: int = 1
    fold_paths: tuple[Path, ...] = ()  # network i of a k-fold set scores the events with event % k == i
    fold_branch: str | None = None
    backend: str = "keras"
    lambdas: tuple[float, ...] = ()  # a parameterised network: the lambdas it is scored at
    pads: tuple[tuple[str, float], ...] = ()  # feature expression -> its value where x[:, i] is missing (card)

    @property
    def name(self) -> str:
        return self.model_path.stem

    @property
    def inputs(self) -> tuple[str, ...]:
        """The network's input columns: the features (and ``kappa_lambda`` last for a parameterised one)."""
        return (*self.features, layout.PARAM_INPUT) if self.lambdas else self.features

    def outputs(self) -> list[tuple[float | None, tuple[str, ...]]]:
        """(kappa_lambda input or None, the score branches it writes) for each scoring of an event."""
        if not self.lambdas:
            return [(None, self.score_branches)]
        n = len(self.score_branches) // len(self.lambdas)
        return [(kl, self.score_branches[i * n:(i + 1) * n]) for i, kl in enumerate(self.lambdas)]

    @property
    def branches(self) -> tuple[str, ...]:
        return (*self.score_branches, self.fold_branch if self.folds > 1 else self.test_branch)

    @property
    def files(self) -> tuple[Path, ...]:
        """The files that score: the ``.keras`` (or ``.onnx``) network, or one per fold."""
        paths = self.fold_paths if self.folds > 1 else (self.model_path,)
        return tuple(p.with_suffix(".onnx") for p in paths) if self.backend == "onnx" else paths


@dataclass(frozen=True)
class Applied:
    """What happened to one input file: written, skipped (output exists) or failed (with why)."""

    input: Path
    output: Path
    status: str
    events: int = 0
    seconds: float = 0.0
    method: str = ""
    error: str = ""


def network(model_path: str | Path, backend: str = "keras", lambdas: str | Iterable[object] | None = None) -> Network:
    """A network (or k-fold set) from its model file, or its JSON card, and what the card says.

    ``model_path`` may be the ``.keras`` file, the ``.json`` card, or one fold file of a k-fold
    set (``..._fold0of3.keras``): the set is then applied whole. ``lambdas``: where a parameterised
    network is scored (None or 'all': the lambdas it was trained on); ignored for other networks.
    """
    if backend not in BACKENDS:
        raise UserArgumentError(f"backend {backend!r}: expected one of {', '.join(BACKENDS)}")
    model_path = Path(model_path)
    model_path = model_path.with_name(_FOLD_FILE.sub("", model_path.stem) + ".keras")
    card_file = model_path.with_suffix(".json")
    if not card_file.exists():
        if not model_path.exists():
            raise MissingArtifactError(f"model file {model_path} does not exist")
        raise MissingArtifactError(f"model card {card_file} (beside {model_path.name}) does not exist")
    card = json.loads(card_file.read_text())
    missing = [k for k in ("analysis", "lambda", "features", "classes") if k not in card]
    if missing:
        raise InputFileError(f"model card {card_file} lacks key(s) {', '.join(missing)}")
    folds = int(card.get("folds", 1))
    fold_paths: tuple[Path, ...] = ()
    if folds > 1:
        names = card.get("fold_models") or []
        if len(names) != folds:
            raise InputFileError(f"model card {card_file}: 'fold_models' lists {len(names)} files for folds={folds}")
        fold_paths = tuple(card_file.parent / n for n in names)
    want = [p.with_suffix(".onnx") if backend == "onnx" else p for p in (fold_paths or (model_path,))]
    absent = [p for p in want if not p.exists()]
    if absent:
        what = (f"k-fold set {card_file.name} (folds={folds}) lacks fold file(s) "
                f"{', '.join(p.name for p in absent)} in {card_file.parent}") if folds > 1 else \
            f"model file {absent[0]} does not exist"
        if backend == "onnx":
            what += " (write them with: hhnb export --model " + str(card_file) + ")"
        raise MissingArtifactError(what)
    at: tuple[float, ...] = ()
    if layout.is_param(card["lambda"]):
        kl: float | str = layout.PARAM
        if lambdas is None or (isinstance(lambdas, str) and lambdas.strip().lower() == "all"):
            lambdas = card.get("lambdas") or []
        at = tuple(dict.fromkeys(_lambdas.parse_list(lambdas)))
        branches = tuple(b for v in at for b in layout.score_branches(card["analysis"], v, card["classes"]))
    else:
        kl = _lambdas.parse(card["lambda"])
        branches = tuple(card.get("score_branches") or layout.score_branches(card["analysis"], kl, card["classes"]))
    return Network(card["analysis"], kl, model_path, tuple(card["features"]),
                   tuple(card["classes"]), branches, layout.istest_branch(card["analysis"], kl),
                   card.get("tree", layout.DEFAULT_TREE), card.get("event_branch"), folds, fold_paths,
                   layout.fold_branch(card["analysis"], kl) if folds > 1 else None, backend, at,
                   tuple((str(k), float(v)) for k, v in (card.get("pads") or {}).items()))


def networks(analysis: str, lambdas: str | Iterable[object], models_dir: str | Path,
             backend: str = "keras", parameterised: bool = False) -> list[Network]:
    """Networks of ``analysis`` (comma list allowed) at ``lambdas`` ('all' = every card in ``models_dir``).

    ``parameterised``: the parameterised network of each analysis, scored at ``lambdas`` ('all': its
    training lambdas); otherwise the dedicated networks ('all' leaves parameterised ones out).
    """
    models_dir = Path(models_dir)
    out = []
    for ana in [a.strip() for a in analysis.split(",") if a.strip()]:
        if parameterised:
            out.append(network(layout.model_path(models_dir, ana, layout.PARAM), backend, lambdas))
            continue
        if isinstance(lambdas, str) and lambdas.strip().lower() == "all":
            param_card = layout.card_path(models_dir, ana, layout.PARAM)
            paths = [p.with_suffix(".keras") for p in layout.card_paths(models_dir, ana) if p != param_card and
                     (p.with_suffix(".keras").exists() or '"fold_models"' in p.read_text())]
            if not paths:
                raise MissingArtifactError(f"no trained network of analysis {ana!r} in {models_dir} "
                                           f"(expected {layout.model_path('', ana, 1).name} or another "
                                           "lambda, with its .json card)")
        else:
            paths = [layout.model_path(models_dir, ana, kl) for kl in _lambdas.parse_list(lambdas)]
        out += [network(p, backend) for p in paths]
    return out


def check_networks(nets: list[Network]) -> None:
    """Refuse an empty set, two networks writing the same branch, or networks reading different trees."""
    if not nets:
        raise UserArgumentError("no network to apply: give --analysis/--lambdas or --model")
    owner: dict[str, Network] = {}
    for net in nets:
        for b in net.branches:
            if b in owner:
                raise UserArgumentError(f"networks {owner[b].model_path} and {net.model_path} would both write "
                                 f"branch {b!r}: apply them in separate runs (or to separate copies)")
            owner[b] = net
    trees = {n.tree for n in nets}
    if len(trees) > 1:
        raise UserArgumentError(f"the networks read different trees ({', '.join(sorted(trees))}): apply them separately")


def output_path(path: str | Path, outdir: str | Path | None = None) -> Path:
    """Where the scored copy of ``path`` goes (``layout.applied_path``; default beside the input)."""
    return layout.applied_path(path, outdir)


def expand(patterns: Iterable[str | Path]) -> list[Path]:
    """Input files from names and globs, each once, in order; a pattern matching nothing is an error."""
    out: list[Path] = []
    for pattern in patterns:
        text = str(pattern)
        matches = sorted(glob.glob(text)) if glob.has_magic(text) else [text]
        if not matches:
            raise MissingInputFile(f"no input file matches {text!r}")
        out += [Path(m) for m in matches if Path(m) not in out]
    return out


def _model(path: Path, features: tuple[str, ...] | None = None):
    """A Keras network or an onnxruntime session, kept while among the last few used (bounded cache)."""
    model = _load_model(str(path.resolve()))
    if features is not None and path.suffix == ".onnx":
        onnx.check_inputs(model, features, path)
    return model


@functools.lru_cache(maxsize=MODEL_CACHE)
def _load_model(path: str):
    if path.endswith(".onnx"):
        return onnx.session(path)
    return saving.load(path)


def _predict(net: Network, path: Path, x: np.ndarray) -> np.ndarray:
    model = _model(path, net.inputs)
    if net.backend == "onnx":
        return onnx.predict(model, x)
    return predict(model, x)


def _write(src: Path, dst: Path, new: dict[str, rootcopy.NewBranches]) -> None:
    """Write the copy with its new branches, scoring chunk by chunk as it goes (a function of its own so
    tests can make it fail midway)."""
    rootcopy.copy_with_branches(src, dst, new)


def score_chunk(nets: list[Network], chunk: dict[str, Any], entry_start: int,
                where: str = "tree") -> dict[str, np.ndarray]:
    """Score branches (float32) and test-set flags or folds (int32; ROOT reads int8 as char) for one chunk.

    ``chunk`` holds the branches the networks read (NumPy or awkward arrays); the inputs are the card's
    feature expressions evaluated on it (:func:`hhnb.io.expressions.evaluate`), as in training.
    """
    n = len(next(iter(chunk.values()))) if chunk else 0
    out: dict[str, np.ndarray] = {}
    for net in nets:
        values = expressions.evaluate(net.features, chunk, dict(net.pads), where) if n else {}
        x = np.column_stack([values[f].astype(np.float32) for f in net.features]) if n else \
            np.zeros((0, len(net.features)), np.float32)
        event = expressions.event_numbers(chunk, net.event_branch, where) if net.event_branch else \
            np.arange(entry_start, entry_start + n)
        files = net.files
        if net.folds > 1:
            fold = np.mod(np.asarray(event, np.int64), net.folds).astype(np.int32)
            out[net.fold_branch] = fold
        else:
            out[net.test_branch] = data.is_test(event).astype(np.int32)
        for kl, branches in net.outputs():
            xin = x if kl is None else np.column_stack([x, np.full(n, kl, np.float32)])
            if net.folds > 1:
                probs = np.zeros((n, len(net.classes)), np.float32)
                for i, path in enumerate(files):
                    rows = np.flatnonzero(fold == i)
                    if len(rows):
                        probs[rows] = _predict(net, path, xin[rows])
            else:
                probs = _predict(net, files[0], xin)
            for i, b in enumerate(branches):
                out[b] = probs[:, i].astype(np.float32)
    return out


def score_events(net: Network, events: Any, event: str = "event") -> dict[str, np.ndarray]:
    """The branches apply would write, for a table of events (its features and ``event`` column)."""
    chunk = {f: np.asarray(events[f]) for f in net.features}
    if net.event_branch:
        chunk[net.event_branch] = np.asarray(events[event])
    return score_chunk([net], chunk, 0)


def trees_to_score(path: Path, nets: list[Network], trees: str | Iterable[str] | None = None) -> list[str]:
    """The trees of ``path`` to score: the networks' tree (None), names and globs, or ``all`` (every TTree of
    the file that carries the networks' inputs: systematic variations such as ``JET_JER__1up``).

    A tree asked for (None, a name or a glob) that lacks an input, or is an RNTuple, is an ``InputFileError``
    naming the file, the tree and what is missing; ``all`` passes over those.
    """
    f, found = data.open_file(str(path))
    if trees is None:
        _refuse_rntuple(path, nets[0].tree, data.get_tree(f, str(path), nets[0].tree, found))
        return [nets[0].tree]
    items = [t.strip() for t in trees.split(",")] if isinstance(trees, str) else [str(t) for t in trees]
    items = [t for t in items if t]
    if items == ["all"]:
        out = [t for t in found if not data.is_rntuple(f[t]) and not _missing_inputs(f[t], nets)]
        if not out:
            raise InputFileError(f"file {path}: no tree carries the networks' inputs ({', '.join(nets[0].features)}); "
                                  f"trees in the file: {', '.join(found) or 'none'}")
        return out
    out = []
    for item in items:
        matches = fnmatch.filter(found, item) if glob.has_magic(item) else [item]
        if not matches:
            raise InputFileError(f"file {path}: no tree matches {item!r}; trees in the file: {', '.join(found)}")
        for name in matches:  # a tree asked for by name or glob must carry the inputs (one line if not)
            t = data.get_tree(f, str(path), name, found)
            _refuse_rntuple(path, name, t)
            problems = _missing_inputs(t, nets)
            if problems:
                raise InputFileError(f"file {path}, tree {name!r}: " + "; ".join(problems))
            out.append(name)
    return list(dict.fromkeys(out))


def _missing_inputs(t, nets: list[Network]) -> list[str]:
    problems = []
    keys = set(t.keys())
    for net in nets:
        need = [*net.features, *([net.event_branch] if net.event_branch else [])]
        plain = [b for b in need if expressions.is_branch(b) and b not in keys]
        other = data.missing_branches(t, [b for b in need if not expressions.is_branch(b)])
        if plain:
            problems.append(f"network {net.name} needs branch(es) {', '.join(plain)}")
        if other:
            problems.append(f"network {net.name} needs {'; '.join(other)}")
    return problems


def _refuse_rntuple(path: Path, tree: str, t) -> None:
    if data.is_rntuple(t):
        raise InputFileError(f"file {path}: {tree!r} is an RNTuple: hhnb apply writes scores into TTrees only "
                              "(ROOT cannot add fields to a written RNTuple); convert it to a TTree, or score its "
                              "events with hhnb.nn.apply.score_events")


def _check_input(path: Path, nets: list[Network], tree: str):
    """Open the tree and check every network's inputs are there and no output branch is (errors name them)."""
    t = data.open_tree(str(path), tree, [])
    _refuse_rntuple(path, tree, t)
    problems = _missing_inputs(t, nets)
    keys = set(t.keys())
    clash = [b for net in nets for b in net.branches if b in keys]
    if clash:
        problems.append(f"branch(es) {', '.join(clash)} already exist (scores applied before?)")
    if problems:
        raise InputFileError(f"file {path}, tree {tree!r}: " + "; ".join(problems))
    return t


def _scores(path: Path, t, nets: list[Network], tree_name: str, step: int,
            progress: Callable[[int], None] | None) -> rootcopy.NewBranches:
    """Every new branch of one tree, computed chunk by chunk from the branches the networks read as the copy
    consumes them (each chunk is written before the next is scored: memory does not grow with the events)."""
    where = f"file {path}, tree {tree_name!r}"
    keys = expressions.keys(t)
    reads = [e for net in nets for e in (*net.features, *([net.event_branch] if net.event_branch else []))]
    needed = expressions.needed_branches(reads, keys, where)

    def chunks():
        try:
            for chunk, start, stop in expressions.iterate(t, needed, step):
                yield score_chunk(nets, chunk, start, where)
                if progress:
                    progress(stop - start)
        except OSError as exc:  # reading the input failed, not writing the copy (apply_file tells them apart)
            raise InputFileError(f"{where}: {exc}") from exc

    dtypes = {b: np.dtype(np.float32 if b in net.score_branches else np.int32) for net in nets for b in net.branches}
    return rootcopy.NewBranches(dtypes, chunks())


def apply_file(path: str | Path, nets: list[Network], output: str | Path | None = None, force: bool = False,
               in_place: bool = False, step: int = STEP, progress: Callable[[int], None] | None = None,
               trees: str | Iterable[str] | None = None) -> Applied:
    """Score one file with every network; never raises for a bad file (the result says what failed).

    The output (a temporary file renamed when complete; ``in_place``: renamed over the input) holds every
    object of the input, unchanged (:func:`hhnb.io.rootcopy.copy_with_branches`), and the new branches in
    each scored tree (``trees``: see :func:`trees_to_score`). A failure or a kill leaves the input as it was.
    """
    path = Path(path)
    output = path if in_place else Path(output or output_path(path))
    t0 = time.perf_counter()
    if not in_place and output.exists() and not force:
        return Applied(path, output, "skipped", error="output exists (use --force to rewrite)")
    method = "in-place copy" if in_place else "copy"
    try:
        names = trees_to_score(path, nets, trees)
        new = {}
        n = 0
        for name in names:
            t = _check_input(path, nets, name)
            new[name] = _scores(path, t, nets, name, step, progress)
            n += int(t.num_entries)
        with atomic_path(output) as tmp:
            _write(path, tmp, new)
            if in_place:
                shutil.copymode(path, tmp)
    except OSError as exc:
        why = "disk full" if exc.errno == errno.ENOSPC else type(exc).__name__
        return Applied(path, output, "failed", seconds=time.perf_counter() - t0, method=method,
                       error=f"writing {output}: {why}: {exc} (nothing written)")
    except Exception as exc:  # corrupt input, missing branches, unreadable baskets ...
        msg = str(exc) if str(path) in str(exc) else f"file {path}: {exc}"
        return Applied(path, output, "failed", seconds=time.perf_counter() - t0, method=method,
                       error=f"{msg} (nothing written)")
    return Applied(path, output, "written", n, time.perf_counter() - t0, method)


def _entries(path: Path, tree: str) -> int:
    try:
        with uproot.open(path) as f:
            return int(f[tree].num_entries)
    except Exception:
        return 0


def _work(path: Path, nets: list[Network], output: Path, force: bool, in_place: bool, step: int,
          q: Any = None, trees: str | Iterable[str] | None = None) -> Applied:
    """Worker process entry point: progress goes back through a manager queue."""
    return apply_file(path, nets, output, force, in_place, step, q.put if q is not None else None, trees)


def apply(files: Iterable[str | Path], nets: list[Network], outdir: str | Path | None = None, jobs: int = 1,
          force: bool = False, in_place: bool = False, step: int = STEP, progress: bool = True,
          trees: str | Iterable[str] | None = None) -> list[Applied]:
    """Apply ``nets`` to every file (globs allowed), ``jobs`` files at a time; one result per input, in order.

    ``trees``: the networks' tree (None), names or globs, or ``all`` trees that carry the inputs.
    """
    check_networks(nets)
    for net in nets:  # ONNX files are checked against the card's features before any file is touched
        if net.backend == "onnx":
            for f in net.files:
                _model(f, net.inputs)
    paths = expand(files)
    if in_place and outdir is not None:
        raise UserArgumentError("--in-place writes into the input files: it takes no output directory")
    outputs = [p if in_place else output_path(p, outdir) for p in paths]
    seen: dict[Path, Path] = {}
    for p, o in zip(paths, outputs):
        if not in_place and o.resolve() in seen:
            raise UserArgumentError(f"inputs {seen[o.resolve()]} and {p} would both write {o}")
        seen[o.resolve()] = p
    if outdir is not None:
        outdir = Path(outdir)
        try:
            outdir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UnwritableOutput(f"output directory {outdir} cannot be created: {exc}") from None
        if not os.access(outdir, os.W_OK):
            raise UnwritableOutput(f"output directory {outdir} is not writable")
    total = sum(_entries(p, nets[0].tree) for p in paths)
    bar = tqdm(total=total, desc="apply", unit=" ev", unit_scale=True, disable=not progress, leave=False)
    try:
        if jobs <= 1 or len(paths) == 1:
            results = [apply_file(p, nets, o, force, in_place, step, bar.update, trees) for p, o in zip(paths, outputs)]
        else:
            results = _parallel(paths, outputs, nets, jobs, force, in_place, step, bar, trees)
    finally:
        bar.close()
    return results


def _parallel(paths, outputs, nets, jobs, force, in_place, step, bar, trees=None) -> list[Applied]:
    """Files in worker processes (spawned: TensorFlow is not fork-safe), progress through a queue."""

    ctx = mp.get_context("spawn")
    with ctx.Manager() as manager, ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
        q = manager.Queue()
        futures = [pool.submit(_work, p, nets, o, force, in_place, step, q, trees) for p, o in zip(paths, outputs)]
        pending = set(futures)
        while pending:
            _, pending = wait(pending, timeout=0.2)
            while True:
                try:
                    bar.update(q.get_nowait())
                except queue.Empty:
                    break
        return [f.result() for f in futures]
