"""The notebooks as a physicist meets them: JupyterLab in a real browser (``make test-lab``).

Starts JupyterLab on 127.0.0.1 with the project's kernel ``hhnb`` and a scratch project
(``HHNB_HOME``: toy data from ``hhnb generate``, models written there, never in the checkout),
drives Debian's Chromium with Playwright (no browser download), opens ``notebooks/train.ipynb``
then ``notebooks/evaluate.ipynb`` (which reads the network train just wrote), runs all cells
from the Run menu, and checks that every code cell ran, that no error or stderr output appeared,
that the expected figures rendered, and that the notebook files were not modified (autosave off).
Screenshots go to ``runs/lab/``.

Skipped unless ``HHNB_TEST_LAB=1`` (set by ``make test-lab``), so ``make test`` does not start a browser.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SHOTS = ROOT / "runs" / "lab"
# figures each notebook draws with its default parameters (train: the learning curves of the 3 folds in one
# figure; evaluate: ROC, per-fold ROCs, PR, two score distributions for the three-class default network,
# significance, confusion matrix)
EXPECTED_FIGURES = {"train": 1, "evaluate": 7}
RUN_TIMEOUT_S = {"train": 600, "evaluate": 300}

pytestmark = [pytest.mark.lab,
              pytest.mark.skipif(os.environ.get("HHNB_TEST_LAB") != "1", reason="real-browser test: make test-lab")]


@pytest.fixture(scope="module", autouse=True)
def _screenshots_folder():
    SHOTS.mkdir(parents=True, exist_ok=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _api(base: str, token: str, path: str, method: str = "GET", body: dict | None = None):
    req = urllib.request.Request(f"{base}/api/{path}", method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": f"token {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        text = r.read().decode()
    return json.loads(text) if text else None


def _settings(folder: Path) -> None:
    """JupyterLab user settings for the test: no autosave (notebook files stay as committed), every cell in the
    DOM (no windowing), no news or update check (no network)."""
    files = {"docmanager-extension/plugin": {"autosave": False},
             "notebook-extension/tracker": {"windowingMode": "none"},
             "apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False}}
    for name, value in files.items():
        path = folder / "@jupyterlab" / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on the checkout, kernels writing into a scratch project; yields (base URL, token)."""
    tmp = tmp_path_factory.mktemp("lab")
    home = tmp / "project"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "PYTEST", "MPLBACKEND"))}
    env.update(HHNB_HOME=str(home), TF_CPP_MIN_LOG_LEVEL="3", JUPYTERLAB_SETTINGS_DIR=str(tmp / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"), JUPYTER_CONFIG_DIR=str(tmp / "config"),
               JUPYTER_DATA_DIR=str(tmp / "data"), JUPYTER_RUNTIME_DIR=str(tmp / "runtime"))
    # the toy ntuples train.ipynb reads with its defaults (as the nbval set-up makes them)
    subprocess.run([str(BIN / "hhnb"), "generate", "--analyses", "resolved", "--lambdas", "1", "--events", "5000",
                    "--seed", "42", "--skip-existing", "--no-progress"], env=env, check=True, cwd=tmp,
                   stdout=subprocess.DEVNULL)
    _settings(tmp / "settings")
    port, token = _free_port(), secrets.token_hex(16)
    cmd = [str(BIN / "jupyter-lab"), "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={ROOT}",
           "--MappingKernelManager.default_kernel_name=hhnb"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(tmp / "server.log", "w")  # noqa: SIM115 - closed below
    server = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                _api(base, token, "status")
                break
            except OSError:
                if server.poll() is not None:
                    pytest.fail(f"jupyter lab exited: {(tmp / 'server.log').read_text()[-2000:]}")
                time.sleep(0.5)
        specs = _api(base, token, "kernelspecs")["kernelspecs"]
        assert "hhnb" in specs, f"kernelspec hhnb not installed (make test-lab installs it): {sorted(specs)}"
        yield base, token
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        if SHOTS.exists():
            shutil.copy(tmp / "server.log", SHOTS / "server.log")


_CELL_STATE = """() => Array.from(document.querySelectorAll('.jp-NotebookPanel .jp-Notebook .jp-CodeCell')).map(c => {
    const prompt = c.querySelector('.jp-InputArea-prompt');
    return prompt ? prompt.textContent.trim() : '';
})"""


def _menu(page, menu: str, item: str) -> None:
    """Click ``menu`` in JupyterLab's menu bar, then ``item`` in it."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{menu}$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$")).click()


def _loaded(path: Path, kernel_display: str) -> str:
    """A page condition: the notebook shows all of ``path``'s cells with their committed prompts, and its kernel
    is attached and idle.

    JupyterLab first draws a placeholder notebook (one empty code cell, no kernel), then the file's cells, then
    connects the session's kernel. Clearing or running before that acts on the placeholder: "Run All Cells"
    then asks for a kernel (the Select Kernel dialog) and the committed outputs appear afterwards, looking as if
    every cell had run.
    """
    cells = json.loads(path.read_text())["cells"]
    prompts = [f"[{c.get('execution_count') or ' '}]:" for c in cells if c["cell_type"] == "code"]
    return f"""() => document.querySelectorAll('.jp-NotebookPanel .jp-Notebook .jp-Cell').length === {len(cells)}
        && JSON.stringify(({_CELL_STATE})()) === {json.dumps(json.dumps(prompts, separators=(",", ":")))}
        && document.querySelector('.jp-Notebook-ExecutionIndicator[data-status="idle"]') !== null
        && Array.from(document.querySelectorAll('.jp-StatusBar-TextItem'))
               .some(e => e.textContent.trim() === {json.dumps(kernel_display + " | Idle")})"""


def _dialogs(page) -> list[str]:
    """The titles of the dialogs open over the page (e.g. "Select Kernel")."""
    return page.locator(".jp-Dialog .jp-Dialog-header").all_inner_texts()


def _run_notebook(browser, base: str, token: str, name: str) -> dict:
    """Open notebooks/<name>.ipynb with the hhnb kernel, Run > Run All Cells, wait, return what rendered."""
    path = f"notebooks/{name}.ipynb"
    kernel_display = _api(base, token, "kernelspecs")["kernelspecs"]["hhnb"]["spec"]["display_name"]
    # a session on the project's kernel before the page opens: JupyterLab attaches the notebook to it
    session = _api(base, token, "sessions", "POST",
                   {"path": path, "name": f"{name}.ipynb", "type": "notebook", "kernel": {"name": "hhnb"}})
    page = browser.new_page()
    console_errors: list[str] = []
    page.on("pageerror", lambda e: console_errors.append(str(e)))
    try:
        page.goto(f"{base}/lab/tree/{path}?reset&token={token}")  # reset: only this notebook open
        page.wait_for_function(_loaded(ROOT / path, kernel_display), timeout=120_000, polling=250)
        assert _dialogs(page) == []
        # the committed outputs go first, so that every prompt number seen afterwards comes from this run
        _menu(page, "Edit", "Clear Outputs of All Cells")
        page.wait_for_function(f"() => ({_CELL_STATE})().every(p => /^\\[ \\]:$/.test(p))", timeout=30_000)
        assert page.locator(".jp-OutputArea-output").count() == 0
        _menu(page, "Run", "Run All Cells")
        page.wait_for_timeout(1000)
        dialogs_at_start = _dialogs(page)  # e.g. "Select Kernel": the notebook would wait for it forever
        assert dialogs_at_start == [], f"dialog over the notebook after Run All: {dialogs_at_start}"
        t0 = time.monotonic()
        page.wait_for_function(f"() => ({_CELL_STATE})().every(p => /^\\[\\d+\\]:$/.test(p))",
                               timeout=RUN_TIMEOUT_S[name] * 1000, polling=1000)
        elapsed = time.monotonic() - t0
        page.wait_for_timeout(1000)  # the last outputs' images decode
        prompts = page.evaluate(_CELL_STATE)
        dialogs = _dialogs(page)
        stderr = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").all_inner_texts()
        figures = page.locator(".jp-OutputArea-output[data-mime-type='image/png'] img")
        n_figures = figures.count()
        stdout = "\n".join(page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stdout']")
                           .all_inner_texts())
        page.locator(".jp-Notebook .jp-Cell").first.scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / f"{name}.png"))
        if stdout:  # the first printed output (train: the per-epoch lines)
            first = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stdout']").first
            first.scroll_into_view_if_needed()
            first.screenshot(path=str(SHOTS / f"{name}-stdout.png"))
        page.locator(".jp-NotebookPanel .jp-CodeCell").last.scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / f"{name}-end.png"))
        for i in range(n_figures):
            figures.nth(i).scroll_into_view_if_needed()
            figures.nth(i).screenshot(path=str(SHOTS / f"{name}-figure{i + 1}.png"))
        kernel = [s["kernel"]["name"] for s in _api(base, token, "sessions") if s["path"].endswith(path)]
    finally:
        with contextlib.suppress(Exception):  # what the page showed when the run ended (or failed)
            page.screenshot(path=str(SHOTS / f"{name}-last.png"))
        page.close()
        _api(base, token, f"sessions/{session['id']}", "DELETE")
    return {"prompts": prompts, "stderr": stderr, "figures": n_figures, "stdout": stdout, "kernel": kernel,
            "elapsed_s": elapsed, "page_errors": console_errors, "dialogs": dialogs}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("name", ["train", "evaluate"])  # in this order: evaluate reads train's network
def test_notebook_runs_in_jupyterlab(lab, browser, name):
    base, token = lab
    before = _digest(ROOT / "notebooks" / f"{name}.ipynb")
    got = _run_notebook(browser, base, token, name)
    print(f"{name}: {len(got['prompts'])} code cells, {got['figures']} figures, {got['elapsed_s']:.1f} s")
    assert got["kernel"] == ["hhnb"], got["kernel"]
    assert got["prompts"] and all(re.fullmatch(r"\[\d+\]:", p) for p in got["prompts"]), got["prompts"]
    numbers = [int(p[1:-2]) for p in got["prompts"]]
    assert numbers == list(range(1, len(numbers) + 1)), numbers  # each cell ran once, in order
    assert got["stderr"] == [], "stderr / error output:\n" + "\n".join(got["stderr"])
    assert got["figures"] == EXPECTED_FIGURES[name]
    assert got["page_errors"] == []
    assert got["dialogs"] == [], f"dialog over the notebook: {got['dialogs']}"
    if name == "train":  # progress: one line per epoch in JupyterLab (silent under papermill / nbval)
        assert re.search(r"^epoch +1/\d+ +loss \d\.\d{4} +val_loss \d\.\d{4} +elapsed", got["stdout"], re.M), \
            got["stdout"]
        networks = re.findall(r"^network (\d+)/(\d+): ", got["stdout"], re.M)  # each network of the k-fold set
        assert networks and [int(i) for i, _ in networks] == list(range(1, int(networks[0][1]) + 1)), networks
    assert _digest(ROOT / "notebooks" / f"{name}.ipynb") == before, "the notebook file was modified"
    for i in range(got["figures"]):
        assert (SHOTS / f"{name}-figure{i + 1}.png").stat().st_size > 5000
