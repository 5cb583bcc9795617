"""hhnb.workflow.distributed_apply: stale temporaries cleared, clashing outputs refused, one task per file on an
in-process Dask worker (results in input order, a failed file alone, resume by skipping), with the scoring stubbed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from userfiles import write_ntuple

from hhnb import layout
from hhnb.errors import UserArgumentError
from hhnb.nn import apply as _apply
from hhnb.workflow import distributed_apply as dapply

CARD = {"analysis": "mine", "lambda": 1.0, "features": ["x1", "x2"], "classes": ["signal", "background"],
        "tree": "Events", "event_branch": "evt"}


@pytest.fixture
def net(tmp_path):
    model = layout.model_path(tmp_path, "mine", 1.0)
    model.write_bytes(b"never loaded: the scoring is stubbed")
    layout.card_path(tmp_path, "mine", 1.0).write_text(json.dumps(CARD))
    return _apply.network(model)


def test_clear_stale_removes_only_that_outputs_temporaries(tmp_path):
    out = tmp_path / "a_withNNs.root"
    stale = [tmp_path / ".a_withNNs.root.123.tmp", tmp_path / ".a_withNNs.root.xyz.tmp"]
    keep = [out, tmp_path / ".b_withNNs.root.1.tmp", tmp_path / "a_withNNs.root.tmp"]
    for p in stale + keep:
        p.write_bytes(b"x")
    assert sorted(dapply.clear_stale(out)) == sorted(stale)
    assert all(p.exists() for p in keep) and not any(p.exists() for p in stale)
    assert dapply.clear_stale(out) == []


def test_entries_counts_a_readable_file_and_zero_for_a_broken_one(tmp_path):
    good = write_ntuple(tmp_path / "good.root", 37, seed=1)
    (tmp_path / "broken.root").write_bytes(b"not ROOT")
    assert dapply._entries(good, "Events") == 37
    assert dapply._entries(tmp_path / "broken.root", "Events") == 0
    assert dapply._entries(good, "NoSuchTree") == 0


def test_two_inputs_writing_one_output_are_refused_before_any_task(tmp_path, net):
    a = write_ntuple(tmp_path / "x" / "f.root", 10, seed=1)
    b = write_ntuple(tmp_path / "y" / "f.root", 10, seed=2)

    class NoClient:
        def __getattr__(self, name):
            raise AssertionError(f"the client was used: {name}")

    with pytest.raises(UserArgumentError, match=r"inputs .*x/f.root and .*y/f.root would both write .*out/f_withNNs"):
        dapply.apply([a, b], [net], NoClient(), outdir=tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


@pytest.fixture
def client():
    from dask.distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None)
    c = Client(cluster)
    yield c
    c.close()
    cluster.close()


def test_one_task_per_file_in_input_order_with_a_failed_file_and_resume(tmp_path, net, client, monkeypatch):
    sizes = {"a": 30, "bad": 20, "c": 40}
    inputs = [write_ntuple(tmp_path / f"{name}.root", n, seed=i) for i, (name, n) in enumerate(sizes.items())]
    out = tmp_path / "out"
    out.mkdir()
    stale = out / ".a_withNNs.root.dead.tmp"  # what a killed worker left
    stale.write_bytes(b"partial")
    calls = []

    def apply_file(path, nets, output, force, step, progress, trees):
        calls.append((path, output, step, trees, progress is not None, stale.exists()))
        if "bad" in path:
            raise RuntimeError("corrupt basket")
        progress(5)
        Path(output).write_bytes(b"scored")
        return _apply.Applied(Path(path), Path(output), "written", events=sizes[Path(path).stem])

    monkeypatch.setattr(_apply, "apply_file", apply_file)
    seen = []
    res = dapply.apply([str(p) for p in inputs], [net], client, outdir=out, step=123, progress=False,
                       on_result=seen.append, retries=0, trees="Events")
    assert [r.input for r in res] == inputs and [r.status for r in res] == ["written", "failed", "written"]
    assert [r.events for r in res] == [30, 0, 40]
    assert res[1].error == f"file {inputs[1]}: task error: RuntimeError: corrupt basket (nothing written)"
    assert res[1].output == out / "bad_withNNs.root" and not res[1].output.exists()
    assert sorted(str(r.input) for r in seen) == sorted(str(p) for p in inputs)  # one callback per file
    assert sorted(c[0] for c in calls) == sorted(str(p) for p in inputs)
    assert all(c[2:4] == (123, "Events") for c in calls) and all(c[4] for c in calls)  # on a worker: progress hook
    assert not stale.exists() and (out / "a_withNNs.root").read_bytes() == b"scored"

    calls.clear()
    again = dapply.apply([str(p) for p in inputs], [net], client, outdir=out, progress=False, retries=0)
    assert [r.status for r in again] == ["skipped", "failed", "skipped"]
    assert again[0].error == "output exists (use --force to rewrite)"
    assert [c[0] for c in calls] == [str(inputs[1])]  # only the failed file is submitted again
