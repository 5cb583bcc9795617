"""environment.yml (conda) and pyproject.toml (pip) list the same packages."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _name(spec: str) -> list[str]:
    m = re.match(r"\s*([A-Za-z0-9_.\-]+)(\[[^\]]*\])?", spec)
    name = m.group(1).lower().replace("_", "-")
    return ["dask", "distributed"] if name == "dask" and m.group(2) else [name]


def test_same_packages():
    py = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = [d for group in py["optional-dependencies"].values() for d in group]
    pip_names = {n for d in py["dependencies"] + extras for n in _name(d)}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda_names = {n for d in env["dependencies"] if isinstance(d, str) for n in _name(d)} - {"python", "pip"}
    assert pip_names == conda_names


def test_versions_agree():
    py = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pins = {re.split(r"[<>=!\[]", d)[0].lower(): d for d in env["dependencies"] if isinstance(d, str)}
    for d in py["dependencies"]:
        name = re.split(r"[<>=!\[]", d)[0].lower()
        spec = re.sub(r"^[A-Za-z0-9_.\-]+(\[[^\]]*\])?", "", d)
        assert pins[name].endswith(spec), (name, spec, pins[name])
