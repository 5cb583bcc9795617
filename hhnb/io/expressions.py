"""Features, masses, weights and selections as expressions over flat and jagged branches.

A feature is a branch name (``m_hh``) or a Python expression over branches, evaluated per event on
awkward arrays read by uproot (``library="ak"``), so NanoAOD- and PHYSLITE-style collections work:

* element access with a pad for missing elements: ``Jet_pt[:, 0]`` is the leading jet's pT, or the
  pad value (per feature, else ``DEFAULT_PAD``) when an event has no jet;
* counts and reductions over a collection: ``num(Jet_pt)``, ``sum(Jet_pt[Jet_pt > 30])``,
  ``max(Jet_btagDeepFlavB)``; masks and arithmetic as awkward and NumPy do them;
* NumPy's functions by name: ``abs``, ``sqrt``, ``log``, ``cos``, ``arctan2``, ``where``, ...;
* dotted names as ROOT stores them: ``AnalysisJetsAuxDyn.pt[:, 0]`` (PHYSLITE), ``Jet.pt`` (records).

Expressions are parsed by Python's own :mod:`ast` (never a hand-written parser); the only rewrite is
``x[:, i]`` into a padded element access. Apply, the ONNX route, ``hhnb check``, training and the studies
all call :func:`evaluate`, so they compute exactly the same inputs from the same card.
"""

from __future__ import annotations

import ast
import difflib
import functools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import awkward as ak
import numpy as np
import uproot

from hhnb.config.analyses import DEFAULT_PAD
from hhnb.errors import ExpressionError

_NUMPY = ("abs", "sqrt", "exp", "log", "log10", "log1p", "sin", "cos", "tan", "arcsin", "arccos", "arctan",
          "arctan2", "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh", "hypot", "minimum", "maximum",
          "where", "sign", "floor", "ceil", "isfinite")
_CONSTANTS = {"pi": np.pi, "True": True, "False": False}


def _reduce(fn, x, pad: float = 0.0):
    """A per-event reduction over the innermost list (a plain per-event array passes unchanged)."""
    if isinstance(x, ak.Array) and x.ndim > 1:
        return ak.fill_none(fn(x, axis=-1), pad)
    return x


def _num(x):
    """Elements per event (``num(Jet_pt)``: the number of jets)."""
    return ak.num(x, axis=-1) if isinstance(x, ak.Array) and x.ndim > 1 else np.ones(len(x), np.int64)


def _at(x, i: int, pad: float):
    """Element ``i`` of each event's list, or ``pad`` where the list is shorter (negative ``i`` from the end)."""
    if not isinstance(x, ak.Array):
        x = ak.Array(x)
    if x.ndim < 2:
        raise TypeError(f"[:, {i}] needs a list per event (a collection branch), got one value per event")
    if i < 0:  # counted from the end of each list: -1 is the last element
        picked = ak.firsts(x[ak.local_index(x, axis=1) == ak.num(x, axis=1) + i], axis=1)
        return ak.fill_none(picked, pad)
    return ak.fill_none(ak.pad_none(x, i + 1, axis=1)[:, i], pad)


_FUNCTIONS: dict[str, Any] = {
    **{name: getattr(np, name) for name in _NUMPY},
    "num": _num,
    "sum": functools.partial(_reduce, ak.sum),
    "max": lambda x, pad=DEFAULT_PAD: _reduce(ak.max, x, pad),
    "min": lambda x, pad=DEFAULT_PAD: _reduce(ak.min, x, pad),
    "mean": lambda x, pad=DEFAULT_PAD: _reduce(ak.mean, x, pad),
    "any": functools.partial(_reduce, ak.any),
    "all": functools.partial(_reduce, ak.all),
}
_RESERVED = set(_FUNCTIONS) | set(_CONSTANTS) | {"_at"}


def _dotted(node: ast.AST) -> str | None:
    """``a.b.c`` for a chain of attributes on a name, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id, *reversed(parts)])
    return None


def _index(node: ast.AST) -> int | None:
    """The integer of ``i`` or ``-i`` in a subscript, else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _index(node.operand)
        return -inner if inner is not None else None
    return None


class _Rewrite(ast.NodeTransformer):
    """Branch names (dotted too) -> aliases; ``x[:, i]`` -> ``_at(x, i, pad)``; unknown names recorded."""

    def __init__(self, keys: set[str], pad: float):
        self.keys = keys
        self.pad = pad
        self.branches: dict[str, str] = {}
        self.unknown: list[str] = []

    def _alias(self, name: str) -> ast.Name:
        alias = self.branches.setdefault(name, f"_b{len(self.branches)}")
        return ast.Name(id=alias, ctx=ast.Load())

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        name = _dotted(node)
        if name is not None and name in self.keys:
            return self._alias(name)
        return self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in self.keys:
            return self._alias(node.id)
        if node.id not in _RESERVED:
            self.unknown.append(node.id)
        return node

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        node = self.generic_visit(node)
        sl = node.slice
        if (isinstance(sl, ast.Tuple) and len(sl.elts) == 2 and isinstance(sl.elts[0], ast.Slice)
                and sl.elts[0].lower is None and sl.elts[0].upper is None and sl.elts[0].step is None
                and _index(sl.elts[1]) is not None):
            return ast.Call(func=ast.Name(id="_at", ctx=ast.Load()),
                            args=[node.value, ast.Constant(_index(sl.elts[1])), ast.Constant(self.pad)], keywords=[])
        return node


def _parse(expr: str, where: str, what: str = "expression") -> ast.Expression:
    try:
        return ast.parse(expr.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"{where}: {what} {expr!r} does not parse: {exc.msg}") from None


@functools.lru_cache(maxsize=1024)
def _compiled(expr: str, keys: frozenset[str], pad: float, where: str,
              what: str = "expression") -> tuple[Any, dict[str, str]]:
    tree = _parse(expr, where, what)
    rewrite = _Rewrite(set(keys), pad)
    tree = ast.fix_missing_locations(rewrite.visit(tree))
    if rewrite.unknown:
        name = rewrite.unknown[0]
        close = difflib.get_close_matches(name, sorted(keys), n=3, cutoff=0.6)
        raise ExpressionError(f"{where}: {what} {expr!r} cannot be evaluated: it names {name!r}, which is no branch "
                              "or collection of the tree" + (f" (close: {', '.join(close)})" if close else ""))
    return compile(tree, f"<expression {expr}>", "eval"), rewrite.branches


def _keyset(keys: Iterable[str]) -> frozenset[str]:
    return keys if isinstance(keys, frozenset) else frozenset(keys)


def needed_branches(exprs: Iterable[str], keys: Iterable[str], where: str = "tree",
                    what: str = "expression") -> list[str]:
    """The branches of ``keys`` that ``exprs`` read, in order of first use; an unknown name is an error.

    >>> needed_branches(["Jet_pt[:, 0]", "sum(Jet_pt[Jet_pt > 30]) / nJet", "m_hh"], ["Jet_pt", "nJet", "m_hh", "x"])
    ['Jet_pt', 'nJet', 'm_hh']
    """
    keys = _keyset(keys)
    out: dict[str, None] = {}
    for expr in exprs:
        if expr in keys:  # a branch as it is, whatever its name (``score_SlfCoup_2.0`` is no Python name)
            out[expr] = None
            continue
        out.update(dict.fromkeys(_compiled(expr, keys, DEFAULT_PAD, where, what)[1]))
    return list(out)


def is_branch(expr: str) -> bool:
    """True for a plain branch name (no operator, call or subscript): read and used as it is."""
    try:
        node = ast.parse(expr.strip(), mode="eval").body
    except SyntaxError:
        return False
    return isinstance(node, ast.Name) or _dotted(node) is not None


def _value(expr: str, arrays: Mapping[str, Any], pad: float, where: str, what: str = "expression"):
    code, branches = _compiled(expr, _keyset(arrays.keys()), float(pad), where, what)
    namespace = {**_FUNCTIONS, **_CONSTANTS, "_at": _at, **{alias: arrays[b] for b, alias in branches.items()}}
    try:
        return eval(code, {"__builtins__": {}}, namespace)  # noqa: S307 - an ast-checked expression of branch names
    except Exception as exc:  # awkward / NumPy errors on a wrong shape or type
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ExpressionError(f"{where}: {what} {expr!r} cannot be evaluated: {text[:200]}") from None


def _per_event(value: Any, n: int, expr: str, where: str, pad: float, dtype: type) -> np.ndarray:
    if isinstance(value, ak.Array):
        if value.ndim > 1:
            raise ExpressionError(f"{where}: expression {expr!r} gives a list per event: take an element "
                                  f"({expr}[:, 0]) or a reduction (sum, max, num)")
        value = ak.to_numpy(ak.fill_none(value, pad))
    arr = np.asarray(value)
    if arr.ndim == 0:
        arr = np.full(n, arr)
    if arr.ndim != 1 or len(arr) != n:
        raise ExpressionError(f"{where}: expression {expr!r} gives shape {arr.shape}, expected one value per event "
                              f"({n})")
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise ExpressionError(f"{where}: expression {expr!r} gives {arr.dtype} values, expected numbers")
    return arr.astype(dtype, copy=False)


def _length(arrays: Mapping[str, Any]) -> int:
    return len(next(iter(arrays.values()))) if arrays else 0


def evaluate(exprs: Sequence[str], arrays: Mapping[str, Any], pads: Mapping[str, float] | None = None,
             where: str = "tree", default_pad: float = DEFAULT_PAD) -> dict[str, np.ndarray]:
    """One float64 value per event for each expression, from a chunk of branches (NumPy or awkward arrays).

    >>> chunk = {"Jet_pt": ak.Array([[50.0, 20.0], [], [35.0]]), "w": np.array([1.0, -1.0, 2.0])}
    >>> out = evaluate(["Jet_pt[:, 0]", "Jet_pt[:, 1]", "num(Jet_pt)", "sum(Jet_pt[Jet_pt > 30])", "2 * w"],
    ...                chunk, pads={"Jet_pt[:, 1]": -1.0})
    >>> [v.tolist() for v in out.values()]
    [[50.0, 0.0, 35.0], [20.0, -1.0, -1.0], [2.0, 0.0, 1.0], [50.0, 0.0, 35.0], [2.0, -2.0, 4.0]]
    """
    pads = pads or {}
    n = _length(arrays)
    out = {}
    for expr in exprs:
        pad = float(pads.get(expr, default_pad))
        if expr in arrays and not isinstance(arrays[expr], ak.Array):
            out[expr] = _per_event(arrays[expr], n, expr, where, pad, np.float64)
            continue
        out[expr] = _per_event(_value(expr, arrays, pad, where), n, expr, where, pad, np.float64)
    return out


def event_numbers(arrays: Mapping[str, Any], name: str, where: str = "tree") -> np.ndarray:
    """Event numbers as int64, read exactly (a branch is never taken through float64, which rounds above 2^53).

    >>> event_numbers({"event": np.array([2**60 + 1], np.uint64)}, "event").tolist() == [2**60 + 1]
    True
    """
    if name in arrays:
        values = arrays[name]
        return np.asarray(values if isinstance(values, np.ndarray) else ak.to_numpy(values)).astype(np.int64)
    return evaluate([name], arrays, where=where)[name].astype(np.int64)


def mask(expr: str | None, arrays: Mapping[str, Any], where: str = "tree") -> np.ndarray:
    """The events that pass a selection expression (all when ``expr`` is None or empty).

    >>> mask("(num(Jet_pt) >= 1) & (abs(eta) < 2)", {"Jet_pt": ak.Array([[50.0], [], [35.0]]),
    ...                                              "eta": np.array([0.5, 0.1, 3.0])}).tolist()
    [True, False, False]
    """
    n = _length(arrays)
    if not expr:
        return np.ones(n, bool)
    value = _per_event(_value(expr, arrays, 0.0, where, "selection"), n, expr, where, 0.0, np.float64)
    return value != 0


def is_flat(obj: Any, branches: Iterable[str]) -> bool:
    """True when every branch of a TTree is one number per event (read as NumPy, faster than awkward)."""

    if not hasattr(obj, "branches"):  # an RNTuple: read as awkward
        return False
    return all(isinstance(obj[b].interpretation, uproot.interpretation.numerical.AsDtype)
               and obj[b].interpretation.inner_shape == () for b in branches)


def iterate(obj: Any, branches: Sequence[str], step_size: str | int = "200 MB") -> Iterator[tuple[dict[str, Any], int, int]]:
    """Chunks ``(arrays, entry_start, entry_stop)`` of ``branches`` from a TTree or an RNTuple.

    Flat TTree branches come as NumPy arrays, anything else as awkward arrays; both feed :func:`evaluate`.
    """
    branches = list(dict.fromkeys(branches))
    if not branches:
        start = 0
        n = int(obj.num_entries)
        step = step_size if isinstance(step_size, int) else 1_000_000
        while start < n:
            yield {}, start, min(n, start + step)
            start += step
        return
    library = "np" if is_flat(obj, branches) else "ak"
    for chunk, report in obj.iterate(branches, step_size=step_size, library=library, report=True):
        arrays = chunk if library == "np" else {b: chunk[b] for b in branches}
        yield arrays, int(report.tree_entry_start), int(report.tree_entry_stop)


def keys(obj: Any) -> frozenset[str]:
    """Every branch (or RNTuple field) name of a tree, dotted sub-fields included."""
    return frozenset(obj.keys())
