"""The toy ntuple generator: ROOT files (TTrees) for the shipped analyses, at any kappa_lambda.

``generate(data_dir, lambdas=[1, 10], events=20000)`` writes
``<data_dir>/<category>/<sample>.root`` with the tree ``layout.DEFAULT_TREE``: the
branches of docs/physics.md (sections 2 and 3), an event weight (sigma x L / N, fb and
fb^-1) and an event number. Deterministic for a given seed.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import uproot
from tqdm.auto import tqdm

from hhnb import layout
from hhnb.config import lambdas as _lambdas
from hhnb.errors import InputFileError, UserArgumentError
from hhnb.io.atomic import atomic_path
from hhnb.toy import hh as toy_hh
from hhnb.toy import physics
from hhnb.toy import tthh as toy_tthh

TREE = layout.DEFAULT_TREE
LUMINOSITY = 3000.0  # fb^-1
HH_BACKGROUNDS = ("qcd_4b", "qcd_2b2j", "ttbar")
TTHH_SAMPLES = ("tthh", "ttbb", "tth", "ttz")
_TTBAR_SLICES = ((0.0, 300.0, 0.95), (300.0, 2000.0, 0.05))  # fraction of sigma by top pT
# Simulated events per sample, as a multiple of ``events``, in the biased generation: QCD 2b2j
# carries most of the background where the HH networks cut (over 90 % of the weighted yield and of
# sum w^2 at the best cuts), so it gets the events that QCD 4b and ttbar give up; likewise ttbb for
# ttHH (4.0 and 5.2 x events in all; each keeps enough to train on; ttbb went from 2.5 to 4.0 x when
# the ttHH network's cuts moved into the sparse >= 6-tag region). The MC error at a best cut falls
# as 1/sqrt(events of the dominant sample there) on average, but from one seed to another it moves by
# several points (where the optimiser lands, a few heavy weights).
EVENT_SHARE = {"qcd_2b2j": 3.4, "qcd_4b": 0.3, "ttbar": 0.3, "ttbb": 4.0, "tth": 0.7, "ttz": 0.5}
# ... and per category of the HH backgrounds: boosted, the rarest, sets how many events are generated;
# intermediate (whose best cuts keep 3-tag QCD events, the heaviest) keeps 1.5 x, resolved 1 x.
CATEGORY_SHARE = {"boosted": 1.3, "intermediate": 1.5}


@dataclass(frozen=True)
class Written:
    """One written ntuple: where, how many events, and the weighted yield at the luminosity."""

    analysis: str
    sample: str
    path: Path
    events: int
    generated: int
    yield_: float


def _seed(seed: int, *parts: object) -> np.random.Generator:
    digest = hashlib.sha256("/".join(map(str, (seed, *parts))).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def _slices(sample: str, kl: float) -> list[tuple[tuple[float, float] | None, float]]:
    """(pT slice, cross section in fb) pieces a sample is generated in."""
    if sample == "hh":
        return [(None, physics.sigma_hh(kl) * physics.BR_BB**2)]
    if sample in ("qcd_4b", "qcd_2b2j"):
        return list(zip(physics.QCD_SLICES_GEV, physics.XSEC_FB[sample]))
    if sample == "ttbar":
        return [((lo, hi), physics.XSEC_FB["ttbar"][0] * f) for lo, hi, f in _TTBAR_SLICES]
    return [(None, physics.XSEC_FB[sample][0])]


def _batch(sample, kl, pt_slice, n, rng, bias):
    if sample in TTHH_SAMPLES:
        return toy_tthh.generate_batch(sample, n, rng, bias=bias)
    return toy_hh.generate_batch(sample, n, rng, kl=kl, pt_slice=pt_slice, bias=bias)


def _batch_varied(sample, kl, pt_slice, n, rng, bias):
    """A batch and its jet variations (``{"JES__1up": ...}``; none for the ttHH samples)."""
    if sample in TTHH_SAMPLES:
        return toy_tthh.generate_batch(sample, n, rng, bias=bias), {}
    return toy_hh.generate_batch_varied(sample, n, rng, kl=kl, pt_slice=pt_slice, bias=bias)


def _weights(arrays: dict[str, np.ndarray], scale: float) -> dict[str, np.ndarray]:
    """The event weight (weight_factor x scale) and the b-tagging scale-factor weights up and down."""
    factor = arrays.pop("weight_factor", np.ones(len(arrays["eventNumber"])))
    arrays["weight"] = factor * scale
    for direction in layout.DIRECTIONS:
        sf = arrays.pop(f"btag_sf_{direction}", None)
        if sf is not None:
            arrays[layout.weight_variation_branch("weight", "btag", direction)] = arrays["weight"] * sf
    return arrays


def _signal_like(out: dict[str, np.ndarray]) -> np.ndarray:
    """Events in the signal-like region of the HH->bbbb categories: preselected, >= 3 b-tags, masses near m_H."""
    if "h1_M" not in out:
        return np.ones(len(out["category"]), bool)
    window = [(out[f"h{i}_M"] > 80.0) & (out[f"h{i}_M"] < 150.0) for i in (1, 2)]
    return (out["nBTags"] >= 3) & window[0] & window[1] & toy_hh.preselected(out)


def _slice_targets(sample, kl, pieces, ncat, events, rng, bias, pilot=20000, floor=0.03):
    """Events to keep per slice and category: proportional to the slice's yield in the signal-like region.

    A pilot batch per slice estimates each slice's yield per category in the signal-like region
    (``_signal_like``); keeping events in proportion to it gives the events there one weight per
    category whatever their slice (the effective count where networks cut equals the simulated
    count). Every slice keeps at least ``floor`` of ``events``. A single piece keeps ``events``.
    """
    if len(pieces) == 1:
        return np.full((1, ncat), events, int)
    y = np.zeros((len(pieces), ncat))
    for i, (pt_slice, xsec) in enumerate(pieces):
        out = _batch(sample, kl, pt_slice, pilot, rng, bias)
        sel = _signal_like(out) if bias else np.ones(pilot, bool)
        for c in range(ncat):
            y[i, c] = xsec * out["weight_factor"][(out["category"] == c) & sel].sum() / pilot
    total = y.sum(axis=0)
    share = np.where(total > 0, y / np.maximum(total, 1e-300), 1.0 / len(pieces))
    share = np.maximum(share, floor)
    share /= share.sum(axis=0)
    return np.maximum(1, np.ceil(events * share)).astype(int)


def _run_slice(sample, kl, pt_slice, xsec, ncat, target, rng, batch, max_factor, bar, bias=True, cap=None):
    """Generate batches until every category has its ``target`` events (or ``cap`` generated).

    Returns per category the nominal dict (or None) and the variations' dicts, and the events generated.
    A category keeps its first ``target`` accepted events: the generated events up to the last one kept.
    A variation keeps, of those same generated events, the ones its varied category accepts (events enter
    and leave), with the nominal's weight scale, so nominal and variations describe the same events.
    """
    target = np.broadcast_to(np.asarray(target, int), (ncat,))
    cap = cap if cap is not None else max_factor * int(target.max())
    kept: list[list[dict[str, np.ndarray]]] = [[] for _ in range(ncat)]
    kept_var: dict[str, list[list[dict[str, np.ndarray]]]] = {}
    counts = np.zeros(ncat, int)
    generated = 0
    while generated < cap and (counts < target).any():
        out, varied = _batch_varied(sample, kl, pt_slice, batch, rng, bias)
        out["eventNumber"] = np.arange(generated, generated + batch, dtype=np.int64)
        for v in varied.values():
            v["eventNumber"] = out["eventNumber"][v.pop("_index")]
        generated += batch
        for c in range(ncat):
            sel = out["category"] == c
            if sel.any():
                kept[c].append({k: v[sel] for k, v in out.items()})
                counts[c] += int(sel.sum())
            for name, v in varied.items():
                sel = v["category"] == c
                kept_var.setdefault(name, [[] for _ in range(ncat)])[c].append({k: x[sel] for k, x in v.items()})
        if bar is not None:
            bar.update(batch)
    result, result_var = [], []
    for c in range(ncat):
        if not kept[c]:
            result.append(None)
            result_var.append({})
            continue
        arrays = {k: np.concatenate([d[k] for d in kept[c]]) for k in kept[c][0]}
        accepted = len(arrays["eventNumber"])
        keep = min(accepted, int(target[c]))
        arrays = {k: v[:keep] for k, v in arrays.items()}
        last = int(arrays["eventNumber"][-1]) if keep < accepted else generated - 1
        # weight: sigma L / N_generated, scaled up for the accepted events not kept
        scale = xsec * LUMINOSITY / generated * accepted / keep
        result.append(_weights(arrays, scale))
        variations = {}
        for name, parts in kept_var.items():
            v = {k: np.concatenate([d[k] for d in parts[c]]) for k in parts[c][0]}
            inside = v["eventNumber"] <= last
            variations[name] = _weights({k: x[inside] for k, x in v.items()}, scale)
        result_var.append(variations)
    return result, result_var, generated
def _branches(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    branches = {}
    for k, v in arrays.items():
        if k == "category":
            continue
        if k in ("eventNumber",):
            branches[k] = v.astype(np.int64)
        elif k == "weight" or k.startswith("weight_"):
            branches[k] = v.astype(np.float64)
        elif np.issubdtype(v.dtype, np.integer):
            branches[k] = v.astype(np.int32)
        else:
            branches[k] = v.astype(np.float32)
    return branches


def _write(path: Path, arrays: dict[str, np.ndarray], info: str,
           variations: dict[str, dict[str, np.ndarray]] | None = None) -> None:
    """The nominal tree ``TREE`` and, for each variation ``<SYST>__1up``, the tree ``TREE__<SYST>__1up``."""
    trees = {TREE: _branches(arrays)}
    for name, v in (variations or {}).items():
        syst, direction = name.rsplit("__1", 1)
        trees[layout.variation_tree(TREE, syst, direction)] = _branches(v)
    with atomic_path(path) as tmp:
        with uproot.recreate(tmp) as f:
            for tree, branches in trees.items():
                f.mktree(tree, {k: v.dtype for k, v in branches.items()})
                step = 200_000
                n = len(branches["eventNumber"])
                for start in range(0, n, step):
                    f[tree].extend({k: v[start:start + step] for k, v in branches.items()})
            f["hhnb_info"] = info


def file_name(sample: str, kl: float | None = None) -> str:
    """File name of a toy sample (``layout.toy_file_name``)."""
    return layout.toy_file_name(sample, kl)


def generate_sample(data_dir: str | Path, sample: str, kl: float = 1.0, events: int = 20000, seed: int = 42,
                    progress: bool = True, batch: int | None = None, max_factor: int = 60,
                    bias: bool = True) -> list[Written]:
    """Generate one sample (``hh`` at ``kl``, a 4b background, or a ttHH sample) and write its files.

    ``bias`` (default) generates the backgrounds preferentially in the signal-like phase space
    (importance sampling; the weights keep every weighted distribution unbiased); ``bias=False``
    is the plain, unbiased generation (the reference the tests compare with).
    """
    data_dir = Path(data_dir)
    tthh = sample in TTHH_SAMPLES
    if not tthh and sample not in ("hh", *HH_BACKGROUNDS):
        raise UserArgumentError(f"unknown toy sample {sample!r}: expected hh, {', '.join(HH_BACKGROUNDS + TTHH_SAMPLES)}")
    if sample == "tthh" and _lambdas.parse(kl) != 1.0:
        raise UserArgumentError(f"the toy ttHH signal exists at lambda 1.0 only, not {kl}")
    kl = _lambdas.parse(kl)
    categories = ("tthh",) if tthh else toy_hh.CATEGORIES
    pieces = _slices(sample, kl)
    per_slice = max(1, int(np.ceil(events / len(pieces))))
    batch = batch or max(2000, min(50_000, per_slice))
    rng = _seed(seed, sample, _lambdas.tag(kl))
    targets = _slice_targets(sample, kl, pieces, len(categories), events, rng, bias)
    if bias and sample in HH_BACKGROUNDS:
        targets = np.ceil(targets * np.array([CATEGORY_SHARE.get(c, 1.0) for c in categories])).astype(int)
    merged: list[list[dict[str, np.ndarray]]] = [[] for _ in categories]
    merged_var: list[dict[str, list[dict[str, np.ndarray]]]] = [{} for _ in categories]
    generated_total = 0
    label = f"{sample}" + (f" kl={kl:g}" if sample == "hh" else "")
    bar = tqdm(desc=f"generate {label}", unit=" ev", unit_scale=True, disable=not progress, leave=False)
    offset = 0
    for i, (pt_slice, xsec) in enumerate(pieces):
        res, res_var, generated = _run_slice(sample, kl, pt_slice, xsec, len(categories), targets[i], rng, batch,
                                             max_factor, bar, bias,
                                             cap=max_factor * max(per_slice, int(targets[i].max())))
        for c, arrays in enumerate(res):
            if arrays is not None:
                arrays["eventNumber"] = arrays["eventNumber"] + offset
                merged[c].append(arrays)
            for name, v in res_var[c].items():
                v["eventNumber"] = v["eventNumber"] + offset
                merged_var[c].setdefault(name, []).append(v)
        offset += generated
        generated_total += generated
    bar.close()
    written = []
    for c, cat in enumerate(categories):
        if not merged[c]:
            continue
        arrays = {k: np.concatenate([d[k] for d in merged[c]]) for k in merged[c][0]}
        path = data_dir / cat / file_name(sample, kl)
        info = f"hhnb toy: sample={sample} kl={kl} seed={seed} bias={bias} toy={toy_version()} generated={generated_total}"
        variations = {name: {k: np.concatenate([d[k] for d in parts]) for k in parts[0]}
                      for name, parts in merged_var[c].items()}
        _write(path, arrays, info, variations)
        written.append(Written(cat, sample, path, len(arrays["weight"]), generated_total,
                               float(arrays["weight"].sum())))
    return written


@functools.cache
def toy_version() -> str:
    """A digest of the generator's source (``hhnb/toy/*.py``), written into every toy file's ``hhnb_info``.

    ``skip_existing`` keeps a file only if it was written by this version with the same seed, so a cache
    of toy files never outlives a change of the generator.
    """
    h = hashlib.sha256()
    for p in sorted(Path(__file__).resolve().parent.glob("*.py")):
        h.update(p.read_bytes())
    return h.hexdigest()[:12]


def is_current(path: str | Path, seed: int | None = None) -> bool:
    """Whether this generator version (and ``seed``, when given) wrote the toy file ``path``."""
    try:
        with uproot.open(path) as f:
            info = str(f["hhnb_info"]) if "hhnb_info" in f else ""
    except Exception:  # noqa: BLE001 - unreadable: not current (the reader says why when it opens it)
        return False
    return f"toy={toy_version()} " in info and (seed is None or f" seed={seed} " in info)


def _existing(path: Path, category: str, sample: str, seed: int) -> Written | None:
    """What an existing toy file holds, or None when another generator version or seed wrote it."""
    try:
        with uproot.open(path) as f:
            info = str(f["hhnb_info"]) if "hhnb_info" in f else ""
            w = f[TREE]["weight"].array(library="np")
    except Exception as exc:  # noqa: BLE001 - uproot raises many kinds on bad bytes
        raise InputFileError(f"file {path} is not a readable toy ntuple (corrupt or truncated? delete it "
                             f"or run without --skip-existing): {type(exc).__name__}") from None
    if f"toy={toy_version()} " not in info or f" seed={seed} " not in info:
        return None
    gen = int(info.rsplit("generated=", 1)[-1])
    return Written(category, sample, path, len(w), gen, float(w.sum()))


def generate(data_dir: str | Path, analyses: list[str] | None = None, lambdas: list[float] | None = None,
             events: int = 20000, seed: int = 42, progress: bool = True, skip_existing: bool = False,
             bias: bool = True) -> list[Written]:
    """Generate the toy ntuples of the shipped analyses (HH->bbbb categories and/or ttHH).

    ``bias``: importance-sample the backgrounds towards the signal-like region (see generate_sample)
    and share the background events among the samples by EVENT_SHARE. ``skip_existing``: keep the files
    that this generator version (:func:`toy_version`) wrote with this seed; others are regenerated.
    """
    analyses = list(analyses or ("resolved", "intermediate", "boosted", "tthh"))
    unknown = set(analyses) - {*toy_hh.CATEGORIES, "tthh"}
    if unknown:
        raise UserArgumentError(f"unknown toy analysis {sorted(unknown)}: expected resolved, intermediate, boosted, tthh")
    kls = [_lambdas.parse(v) for v in (lambdas if lambdas is not None else [1.0])]
    jobs: list[tuple[str, float]] = []
    if set(analyses) & set(toy_hh.CATEGORIES):
        jobs += [("hh", kl) for kl in kls] + [(b, 1.0) for b in HH_BACKGROUNDS]
    if "tthh" in analyses:
        jobs += [(s, 1.0) for s in TTHH_SAMPLES]
    written: list[Written] = []
    data_dir = Path(data_dir)
    for sample, kl in jobs:
        cats = ("tthh",) if sample in TTHH_SAMPLES else toy_hh.CATEGORIES
        if skip_existing and all((data_dir / c / file_name(sample, kl)).exists() for c in cats):
            kept = [_existing(data_dir / c / file_name(sample, kl), c, sample, seed) for c in cats]
            if all(w is not None for w in kept):
                written += kept
                continue
        n = max(1, round(events * EVENT_SHARE.get(sample, 1.0))) if bias else events
        written += generate_sample(data_dir, sample, kl, events=n, seed=seed, progress=progress, bias=bias)
    return [w for w in written if w.analysis in analyses]
