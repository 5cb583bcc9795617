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


#: README quick-tour commands not run here, each with why and where it runs
NOT_RUN = {
    "hhnb sweep --analyses all --lambdas all": "the whole grid (hours): tests/commands/test_sweep.py and "
                                               "tests/workflow/test_sweep.py run sweeps on a small grid",
    "hhnb search --analysis resolved --lambda 1 --trials 15": "15 trainings: tests/nn/test_search.py runs short "
                                                              "searches, tests/commands/test_search.py the options",
    "hhnb check --config my_analysis.yaml": "the user's own file: tests/commands/test_check.py checks seeded "
                                            "own-ntuples configurations",
}


def _tour() -> list[str]:
    (block,) = [b for b in re.findall(r"^```bash\n(.*?)^```", README, re.S | re.M) if "hhnb generate" in b]
    lines = [line.split("  #")[0].strip() for line in block.splitlines()]
    return [line for line in lines if line and not line.startswith("source ")]


def test_every_tour_command_is_run_or_says_why_not():
    tour = _tour()
    assert set(NOT_RUN) <= set(tour), set(NOT_RUN) - set(tour)
    assert len(tour) - len(NOT_RUN) >= 7


@pytest.mark.lab
@pytest.mark.skipif(os.environ.get("HHNB_TEST_LAB") != "1", reason="3-4 minutes of notebooks: make test-lab runs it")
def test_the_quick_tour_runs_as_written(tmp_path):
    """The README's quick tour, command by command, in a scratch project (the notebooks linked in); in
    ``make test-lab`` (which CI runs), to keep ``make test`` within its time."""
    (tmp_path / "notebooks").symlink_to(ROOT / "notebooks")
    bindir = Path(sys.executable).parent
    env = {**os.environ, "HHNB_HOME": str(tmp_path), "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONHASHSEED": "0",
           "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}"}
    printed = {}
    for command in _tour():
        if command in NOT_RUN:
            continue
        done = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=900)
        assert done.returncode == 0, f"{command}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
        printed[command.split()[1]] = done.stdout
    inputs = {p.name for p in (tmp_path / "data" / "boosted").glob("*.root") if "_withNNs" not in p.name}
    # the evaluate notebook's Z per systematic variation generates the kappa_lambda basis samples it is missing
    assert inputs == {"hh_SlfCoup_1.0.root", "hh_SlfCoup_10.0.root", "qcd_2b2j.root", "qcd_4b.root", "ttbar.root",
                      "hh_SlfCoup_2.5.root", "hh_SlfCoup_5.5.root"}
    assert (tmp_path / "out.ipynb").is_file() and (tmp_path / "runs" / "eval-boosted-10.ipynb").is_file()
    assert "Analysis" in printed["record"] and re.search(r"\bboosted\b.*\b10(\.0)?\b", printed["record"]), \
        printed["record"]
    auc = re.search(r"^AUC = (0\.\d{4})$", printed["roc"], re.M)
    assert auc and float(auc.group(1)) > 0.9, printed["roc"]
    assert "networks: " in printed["apply"] and "boosted" in printed["apply"], printed["apply"]
    scored = {p.name for p in (tmp_path / "data" / "boosted").glob("*_withNNs.root")}
    assert scored == {name.replace(".root", "_withNNs.root") for name in inputs}
    assert "cut: nnscore_boosted_SlfCoup_10.0_sig >= " in printed["cut"], printed["cut"]
    assert "(best cut from the run record)" in printed["cut"]
