"""pyproject.toml's dependencies by role, read off the code's imports (an AST walk, imports inside functions too).

The core is what hhnb and the shipped notebooks import; an extra is what one role adds (test, lab, cluster,
bench). Both ways: every third-party import has its distribution listed where its code runs, and every listed
distribution is imported (or named below with where it is used), so nothing unused stays listed.
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import re
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

#: import name -> distribution, where they differ (the rest: the import name, lower case, "_" -> "-")
DISTRIBUTION = {
    "sklearn": "scikit-learn",
    "yaml": "pyyaml",
    "ROOT": "root",
    "IPython": "ipython",
    "dask_jobqueue": "dask-jobqueue",
}

#: modules hhnb imports only inside a function, for an optional feature -> the extra that brings them
OPTIONAL = {"dask_jobqueue": "cluster"}  # --cluster slurm|htcondor (hhnb/workflow/cluster.py batch_cluster)

#: core distributions nothing imports by name -> why they are needed
NOT_IMPORTED = {
    "pyarrow": "pandas' parquet engine: to_parquet/read_parquet of the scores files (hhnb/io/artifacts.py)",
    "tf2onnx": "Keras' Model.export(format='onnx') converts with it (hhnb export, hhnb/nn/onnx.py)",
    "ipykernel": "the kernel papermill and nbval start for the notebooks",
}

#: extras' distributions used without an import -> (a file, a string in it that shows the use)
USED_BY = {
    "pytest-xdist": ("Makefile", "pytest -n 2"),
    "nbval": ("Makefile", "--nbval notebooks"),
    "ruff": ("Makefile", "ruff check"),
    "black": ("tests/workflow/test_papermill_lambda.py", 'shutil.which("black"'),
    "setuptools": ("tests/test_wheel.py", "--no-build-isolation"),
    "dask-jobqueue": ("tests/workflow/test_cluster.py", "cluster.batch_cluster("),
    "jupyterlab": ("Makefile", "$(BIN)/jupyter lab"),
    "playwright": ("tests/lab/conftest.py", 'importorskip("playwright'),
    "sphinx": ("Makefile", "-m sphinx"),  # [docs]: make docs, and tests/lab/test_docs.py builds the site
    "myst-nb": ("docs/conf.py", '"myst_nb"'),
    "furo": ("docs/conf.py", 'html_theme = "furo"'),
}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _provides(spec: str) -> set[str]:
    """'dask[distributed]>=2024.4' -> {'dask', 'distributed'}: an extra of dask named after a distribution."""
    m = re.match(r"\s*([A-Za-z0-9_.\-]+)(?:\[([^\]]*)\])?", spec)
    names = {_norm(m.group(1))}
    if m.group(2) and names == {"dask"}:
        names |= {_norm(e) for e in m.group(2).split(",")}
    return names


def _names(specs: list[str]) -> set[str]:
    return set().union(*(_provides(s) for s in specs))


CORE = _names(PROJECT["dependencies"])
EXTRAS = {extra: _names(specs) for extra, specs in PROJECT["optional-dependencies"].items()}


def _local(folder: str) -> set[str]:
    """Modules that tests/ and benchmarks/ import from each other by sys.path (common, productions, ...), and their
    folders (tests/studies/test_constraint_inputs.py's writers, imported as ``studies.test_constraint_inputs``)."""
    return {p.stem for p in (ROOT / folder).glob("*.py")} | {p.name for p in (ROOT / folder).iterdir() if p.is_dir()}


def _sources(path: Path) -> list[str]:
    if path.suffix == ".py":
        return [path.read_text()]
    cells = json.loads(path.read_text())["cells"]
    return ["\n".join(line for line in "".join(c["source"]).splitlines() if not line.lstrip().startswith(("%", "!")))
            for c in cells if c["cell_type"] == "code"]


def imports(folder: str, suffixes=(".py",)) -> dict[str, dict[str, bool]]:
    """Third-party top-level module -> {file: imported at module level}, over every file of ``folder``.

    ``pytest.importorskip("x")`` counts as an import of x (inside a function or not, as written).
    """
    base = ROOT / folder
    skip = set(sys.stdlib_module_names) | {"hhnb"}
    if folder in ("tests", "benchmarks"):
        skip |= _local("tests") | _local("benchmarks")
    found: dict[str, dict[str, bool]] = {}

    def add(module: str, where: str, top: bool) -> None:
        name = module.split(".")[0]
        if name and name not in skip:
            files = found.setdefault(name, {})
            files[where] = files.get(where, False) or top

    def visit(node: ast.AST, where: str, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                for alias in child.names:
                    add(alias.name, where, not in_function)
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                add(child.module, where, not in_function)
            elif (isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute)
                  and child.func.attr == "importorskip" and child.args and isinstance(child.args[0], ast.Constant)):
                add(child.args[0].value, where, not in_function)
            visit(child, where, in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda))

    for path in sorted(p for p in base.rglob("*") if p.suffix in suffixes):
        for source in _sources(path):
            visit(ast.parse(source), str(path.relative_to(ROOT)), False)
    return found


def distribution(module: str) -> str:
    return _norm(DISTRIBUTION.get(module, module))


HHNB = imports("hhnb")
NOTEBOOKS = imports("notebooks", (".ipynb",))


def test_the_walk_sees_imports_inside_functions():
    assert HHNB["ROOT"] == {"hhnb/io/rootcopy.py": False}  # imported in a function only, found all the same
    assert "dask_jobqueue" in HHNB and "tensorflow" in HHNB and "matplotlib" in NOTEBOOKS
    assert "hhnb" not in HHNB and "os" not in HHNB


def test_every_hhnb_import_is_a_core_dependency_or_its_optional_extra():
    missing = {m: sorted(files) for m, files in HHNB.items()
               if m not in OPTIONAL and distribution(m) not in CORE}
    assert not missing, f"imported by hhnb, not in [project] dependencies: {missing}"
    for module, extra in OPTIONAL.items():
        assert distribution(module) in EXTRAS[extra], (module, extra)
        assert distribution(module) not in CORE, f"{module} is optional ([{extra}]) but listed in the core"


def test_optional_modules_are_imported_only_inside_functions():
    """``import hhnb.<anything>`` works without the extras: their modules are imported where the feature runs."""
    for module in OPTIONAL:
        at_top = [f for f, top in HHNB.get(module, {}).items() if top]
        assert not at_top, f"{module} (an extra) is imported at module level in {at_top}"


def test_every_notebook_import_is_a_core_dependency():
    """hhnb sweep and hhnb demo run the shipped notebooks with the core alone."""
    missing = {m: sorted(f) for m, f in NOTEBOOKS.items() if distribution(m) not in CORE}
    assert not missing, f"imported by notebooks/, not in [project] dependencies: {missing}"


def test_every_core_dependency_is_imported():
    """Nothing unused stays in the core (seaborn once did): each one is imported, or NOT_IMPORTED says why not."""
    imported = {distribution(m) for m in HHNB} | {distribution(m) for m in NOTEBOOKS}
    unused = CORE - imported - set(NOT_IMPORTED)
    assert not unused, f"in [project] dependencies, imported by neither hhnb/ nor notebooks/: {sorted(unused)}"
    assert set(NOT_IMPORTED) <= CORE, set(NOT_IMPORTED) - CORE
    assert not set(NOT_IMPORTED) & imported, "imported after all: take it out of NOT_IMPORTED"


def test_tests_and_benchmarks_import_only_what_their_make_targets_install():
    """make test: core + [test]; test-lab adds [lab] for tests/lab; test-cluster [cluster]; bench: core + [bench]."""
    for folder, allowed in [("tests", CORE | EXTRAS["test"]), ("benchmarks", CORE | EXTRAS["bench"])]:
        for module, files in imports(folder).items():
            for f in files:
                extra = {"tests/lab": EXTRAS["lab"], "tests/cluster": EXTRAS["cluster"]}.get(str(Path(f).parent), set())
                assert distribution(module) in allowed | extra, f"{f} imports {module}: not installed by its make target"


def test_every_extra_is_used():
    used = {distribution(m) for folder in ("hhnb", "tests", "benchmarks") for m in imports(folder)}
    for extra, names in EXTRAS.items():
        for name in names:
            if name in USED_BY:
                path, text = USED_BY[name]
                assert text in (ROOT / path).read_text(), f"[{extra}] {name}: {text!r} is no longer in {path}"
            else:
                assert name in used, f"[{extra}] {name}: imported nowhere (and not in USED_BY)"
    assert "seaborn" not in CORE | set().union(*EXTRAS.values())


def test_import_names_map_to_the_installed_distributions():
    """DISTRIBUTION agrees with the installed packages' metadata (checked for what this environment has)."""
    installed = importlib.metadata.packages_distributions()
    modules = set(HHNB) | set(NOTEBOOKS) | set(imports("tests")) | set(imports("benchmarks"))
    checked = 0
    for module in sorted(modules):
        if module in installed:
            assert distribution(module) in {_norm(d) for d in installed[module]}, (module, installed[module])
            checked += 1
    assert checked >= len(set(HHNB) | set(NOTEBOOKS)) - len(OPTIONAL)


def test_make_targets_install_their_extras():
    make = (ROOT / "Makefile").read_text()
    for target, stamp in [("demo", "CORE"), ("test", "TEST"), ("test-fast", "TEST"), ("lint", "TEST"),
                          ("notebooks", "TEST"), ("lab", "LAB"), ("test-lab", "LAB"), ("test-cluster", "CLUSTER"),
                          ("bench", "BENCH"), ("bench-large", "BENCH"), ("bench-demo", "BENCH"), ("docs", "DOCS")]:
        assert re.search(rf"^{re.escape(target)}: \$\(STAMP_{stamp}\)", make, re.M), target
    stems = dict(re.findall(r"^STAMP_(\w+) *:= \$\(VENV\)/\.installed-\$\(SUM\)-(\S+)$", make, re.M))
    assert stems == {"CORE": "core", "TEST": "test", "LAB": "test.lab.docs", "CLUSTER": "test.cluster", "BENCH": "bench",
                     "DOCS": "docs"}  # test-lab also builds the site and opens it (tests/lab/test_docs.py)
    assert all(e in EXTRAS for stem in stems.values() if stem != "core" for e in stem.split("."))


def test_batch_cluster_without_dask_jobqueue_is_one_clear_line(monkeypatch):
    from hhnb.errors import HHNBError
    from hhnb.workflow import cluster

    monkeypatch.setitem(sys.modules, "dask_jobqueue", None)  # as if the [cluster] extra were not installed
    with pytest.raises(HHNBError, match=r"^--cluster slurm needs dask-jobqueue: pip install 'hhnb\[cluster\]'"):
        cluster.batch_cluster("slurm")
