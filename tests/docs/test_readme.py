"""The README a physicist reads in five minutes (issue 27, item 1): short, its links resolve, its Python
example runs.

The README's commands are checked with the real parser by ``tests/test_hints.py``; the Python example (the
same block as docs/getting-started.md) is executed here in a scratch project.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def _python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, re.S | re.M)


def test_the_readme_is_short_and_starts_with_the_two_commands():
    lines = README.splitlines()
    assert len(lines) <= 150, len(lines)
    start = "\n".join(lines[:8])
    assert re.search(r"^make demo ", start, re.M) and re.search(r"^make test ", start, re.M)
    for section in ("What `make demo` prints", "The library in ten lines", "Notebooks",
                    "Your own ntuples and batch systems", "Read more", "Layout"):
        assert f"## {section}" in README, section
    assert "reports/" in README  # the Layout section names every stage


def test_the_readme_links_resolve():
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", README)
    local = [link for link in links if not link.startswith(("http://", "https://"))]
    assert len(local) >= 10
    missing = [link for link in local if not (ROOT / link).exists()]
    assert not missing, missing


def test_the_python_example_is_ten_lines_of_code_and_the_same_in_the_docs():
    (example,) = _python_blocks(README)
    code = [line for line in example.splitlines() if line.strip() and not line.startswith(("from ", "import "))]
    assert len(code) <= 10, code
    assert _python_blocks((ROOT / "docs" / "getting-started.md").read_text()) == [example]


@pytest.mark.slow
def test_the_python_example_runs(tmp_path):
    """train, evaluate and apply on a seeded toy: the AUC, Z +- error and a scored copy of every file."""
    import uproot

    (example,) = _python_blocks(README)
    env = {**os.environ, "HHNB_HOME": str(tmp_path), "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONHASHSEED": "0"}
    done = subprocess.run([sys.executable, "-c", example], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    auc = re.search(r"^AUC = (0\.\d{3}) \+- (0\.\d{3})$", done.stdout, re.M)
    assert auc and 0.90 < float(auc.group(1)) < 0.97 and 0 < float(auc.group(2)) < 0.02, done.stdout
    z = re.search(r"^Z = (\S+) \+- (\S+) \(MC stat\. in sigma_b; without: (\S+) \+- (\S+)\)", done.stdout, re.M)
    assert z, done.stdout
    z_mc, z_plain = float(z.group(1)), float(z.group(3))
    assert 0 < z_mc < z_plain  # the background's MC error in sigma_b can only lower Z
    assert re.search(r"scored/\S+_withNNs\.root 4000$", done.stdout, re.M), done.stdout
    outputs = sorted((tmp_path / "scored").glob("*_withNNs.root"))
    assert [p.name for p in outputs] == ["hh_SlfCoup_1.0_withNNs.root", "qcd_2b2j_withNNs.root",
                                         "qcd_4b_withNNs.root", "ttbar_withNNs.root"]
    with uproot.open(outputs[0]) as f:
        tree = f["preselection"]
        scores = tree["nnscore_resolved_SlfCoup_1.0_sig"].array(library="np")
    assert len(scores) == 4000 and 0 <= scores.min() and scores.max() <= 1
