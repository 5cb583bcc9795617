"""The kappa_lambda likelihood with systematics: -2 ln L against pyhf, known answers (Cowan et al. with sigma_b, a
variation equal to the nominal, a normalisation-only tree variation = the same normsys, impacts in quadrature),
the three levels against the pyhf scans of ``constraints``, empty bins, post-fit uncertainties against cabinetry."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pyhf
import pytest

from hhnb.errors import EmptyBinError
from hhnb.stats import significance
from hhnb.studies import constraint_inputs, constraints, systematics
from hhnb.studies.constraint_inputs import SampleHistograms, VariedTemplates

BASIS = (1.0, 2.5, 5.5)
KL = np.linspace(-20, 20, 201)


def _h(y, rel=0.03, mc=500):
    y = np.asarray(y, float)
    return SampleHistograms(y, (rel * y) ** 2, np.full(len(y), mc))


def _varied(seed=1, tilt=True, extra=None, norm=None):
    """Three categories: qcd and ttbar, three basis samples whose m_hh shape changes with kl; JES, JER, btag."""
    rng = np.random.default_rng(seed)
    out = []
    for name, nb, scale in (("resolved", 5, 1.0), ("intermediate", 2, 0.3), ("boosted", 1, 0.1)):
        x = np.linspace(-1, 1, nb)
        qcd = 1.5e4 * scale * np.exp(-np.arange(nb) / 2.0) * rng.uniform(0.8, 1.2, nb)
        nominal = {"qcd": _h(qcd), "ttbar": _h(0.3 * qcd, 0.05)}
        for i, b in enumerate(BASIS):  # per bin a parabola in kl with its minimum at kl = 2 + bin
            nominal[f"signal_{i}"] = _h(60.0 * scale * (0.2 + ((b - 2.0 - np.arange(nb)) / 3.0) ** 2))
        variations = {}
        for src, size, t in (("JES", 0.03, 0.02), ("JER", 0.01, 0.03), ("btag", 0.05, 0.0)):
            t = t if tilt else 0.0
            variations[src] = tuple({k: _h(h.yields * (1 + sign * size) * (1 + sign * t * x)) for k, h in nominal.items()}
                                    for sign in (+1, -1))
        if extra:
            variations.update(extra(nominal))
        out.append(VariedTemplates(name, np.linspace(200.0, 200.0 + 100 * nb, nb + 1), BASIS, nominal, variations,
                                   norm if norm is not None else {"qcd": 0.1, "ttbar": 0.06, "signal_0": 0.05,
                                                                  "signal_1": 0.05, "signal_2": 0.05}))
    return out


def _pyhf_pars(model, cfg, x, kl):
    pars = np.array(cfg.suggested_init(), float)
    for i, n in enumerate(model.alphas):
        pars[cfg.par_slice(n)] = x[i]
    for ch in model.channels:
        sl = model.channel_slices[ch]
        pars[cfg.par_slice(f"mcstat_{ch}")] = x[model.n_alpha + sl.start:model.n_alpha + sl.stop]
    for i, n in enumerate(systematics._coef_names(model.basis)):
        pars[cfg.par_slice(n)] = systematics._basis.coefficients(model.basis, kl)[i]
    return pars


def test_nll_equals_pyhf_logpdf_and_gradient_is_exact():
    """-2 ln L, normsys code4 and histosys code4p inside and beyond |alpha| = 1, against pyhf's own Model."""
    spec = systematics.workspace_spec(_varied())
    model = systematics.CompiledModel.from_spec(spec)
    pyhf.set_backend("numpy")
    ws = pyhf.Workspace(spec)
    pm = ws.model()
    data = np.asarray(ws.data(pm), float)
    rng = np.random.default_rng(0)
    for _ in range(5):
        x = model.nominal_pars()
        x[:model.n_alpha] += rng.normal(0, 1.5, model.n_alpha)
        x[model.n_alpha:] *= rng.uniform(0.8, 1.2, model.npars - model.n_alpha)
        kl = float(rng.uniform(-10, 10))
        ref = float(-2 * pm.logpdf(_pyhf_pars(model, pm.config, x, kl), data)[0])
        assert model.nll(x, kl) == pytest.approx(ref, rel=1e-10)
        g = model.evaluate(x[None], np.array([kl]), model.mask()[None])[1][0]
        eps = 1e-6
        for j in range(model.npars):
            xp, xm = x.copy(), x.copy()
            xp[j] += eps
            xm[j] -= eps
            assert g[j] == pytest.approx((model.nll(xp, kl) - model.nll(xm, kl)) / (2 * eps), rel=1e-4, abs=1e-4)


def test_modifiers_correlated_across_categories_by_name():
    spec = systematics.workspace_spec(_varied())
    model = systematics.CompiledModel.from_spec(spec)
    assert model.alphas == ("JER", "JES", "btag", "norm_qcd", "norm_signal", "norm_ttbar")  # one each, shared
    types = {(m["name"], m["type"]) for ch in spec["channels"] for s in ch["samples"] for m in s["modifiers"]}
    assert ("JES", "normsys") in types and ("JES", "histosys") in types and ("mcstat_boosted", "staterror") in types
    nostat = systematics.workspace_spec(_varied(), "statistics only")
    assert all(m["type"] == "normfactor" for ch in nostat["channels"] for s in ch["samples"] for m in s["modifiers"])


def test_one_bin_normsys_reproduces_asimov_z_with_sigma_b():
    """Cowan, Cranmer, Gross, Vitells (EPJC 71 (2011) 1554), Eq. 20 with sigma_b = f b: s = 50, b = 100, f = 0.07
    gives Z = 3.72. Here the signal is s (kl - k0)^2 / (1 - k0)^2, so q(k0) on the Asimov data at kl = 1 is the
    discovery q0 = Z^2 with b profiled (its normsys: b (1 + f)^alpha, alpha ~ N(0, 1))."""
    s, b, f, k0 = 50.0, 100.0, 0.07, -3.0
    sig = {f"signal_{i}": _h([s * (k - k0) ** 2 / (1 - k0) ** 2]) for i, k in enumerate(BASIS)}
    v = VariedTemplates("one", np.array([0.0, 1.0]), BASIS, {"bkg": _h([b], rel=0.0), **sig}, {}, {"bkg": f})
    model = systematics.CompiledModel.from_spec(systematics.workspace_spec([v]))
    kl = np.array([k0, 1.0, 2.0, 3.0])
    q = systematics.Fitter(model, systematics.level_fixed(model, systematics.ALL)).scans(kl, ["one"])[1].q
    z = float(np.sqrt(q[0]))
    expected = float(significance.asimov_z(s, b, f * b))
    assert expected == pytest.approx(3.72, abs=0.005)
    assert z == pytest.approx(expected, rel=0.01)  # 3.71 vs 3.72: lognormal-like normsys vs Gaussian sigma_b
    q_nosyst = systematics.Fitter(model, model.parameters).scans(kl, ["one"])[1].q
    assert np.sqrt(q_nosyst[0]) == pytest.approx(float(significance.asimov_z(s, b)), rel=1e-6)


def _intervals(varied, level=systematics.ALL):
    return [str(s.interval()) for s in systematics.level_scans(varied, KL, level)]


def test_variation_identical_to_nominal_changes_nothing():
    same = _varied(extra=lambda nom: {"same": (dict(nom), dict(nom))})
    base = _varied()
    a = systematics.level_scans(same, KL)
    b = systematics.level_scans(base, KL)
    for x, y in zip(a, b):
        assert np.abs(x.q - y.q).max() < 1e-6
        assert str(x.interval()) == str(y.interval())
    imp = systematics.impacts(systematics.CompiledModel.from_spec(systematics.workspace_spec(same)))
    assert abs(imp.table.loc["same", "impact up"]) < 1e-6 and abs(imp.table.loc["same", "impact down"]) < 1e-6
    assert imp.table.loc["same", "constraint"] == pytest.approx(1.0, abs=1e-6)  # only its constraint knows it


def test_normalisation_only_tree_variation_equals_the_normsys():
    f = 0.1
    as_tree = _varied(extra=lambda nom: {"qcdnorm": ({k: _h(h.yields * (1 + f)) if k == "qcd" else h
                                                      for k, h in nom.items()},
                                                     {k: _h(h.yields * (1 - f)) if k == "qcd" else h
                                                      for k, h in nom.items()})},
                      norm={"ttbar": 0.06})
    as_norm = _varied(norm={"ttbar": 0.06, "qcd": f})
    for x, y in zip(systematics.level_scans(as_tree, KL), systematics.level_scans(as_norm, KL)):
        assert np.abs(x.q - y.q).max() < 1e-6
    it = systematics.impacts(systematics.CompiledModel.from_spec(systematics.workspace_spec(as_tree)))
    im = systematics.impacts(systematics.CompiledModel.from_spec(systematics.workspace_spec(as_norm)))
    assert it.table.loc["qcdnorm", "impact"] == pytest.approx(im.table.loc["norm_qcd", "impact"], rel=1e-6)
    assert it.table.loc["qcdnorm", "impact"] > 0.005


def test_impacts_of_independent_parameters_add_in_quadrature():
    """One category, three backgrounds each alone in its bin with its own normsys (0.5, 1, 1 %): independent
    parameters (each barely constrained by the data, so the fit correlates them little through kl). Their impacts
    added in quadrature, 0.273, give sqrt(sigma_kl^2 - sigma_kl,stat^2) = 0.269 within 10 % (here 2 %).
    Sizes of 2, 3, 5 % make the data constrain them to 0.63-0.95 and correlate them: 1.39 vs 1.23 (13 %)."""
    nominal = {"a": _h([4000.0, 0, 0]), "b": _h([0, 2000.0, 0]), "c": _h([0, 0, 800.0])}
    for i, k in enumerate(BASIS):
        nominal[f"signal_{i}"] = _h([40.0 * (1 + 0.2 * (k - 1)), 30.0 * (1 + 0.6 * (k - 1)), 20.0 * (1 + 1.5 * (k - 1))])
    v = VariedTemplates("three", np.array([0.0, 1, 2, 3]), BASIS, nominal, {}, {"a": 0.005, "b": 0.01, "c": 0.01})
    model = systematics.CompiledModel.from_spec(systematics.workspace_spec([v], "+ all systematics"))
    imp = systematics.impacts(model, parameters=["norm_a", "norm_b", "norm_c"],
                              fixed=[n for n in model.parameters if n.startswith("mcstat")])
    quad = float(np.sqrt((imp.table["impact"] ** 2).sum()))
    assert imp.kl_hat == pytest.approx(1.0, abs=1e-6)
    assert (imp.table["impact"] > 0.01).all()
    assert quad == pytest.approx(imp.total_systematic, rel=0.10)
    assert quad == pytest.approx(0.273, abs=0.002) and imp.total_systematic == pytest.approx(0.269, abs=0.002)


def test_three_levels_match_the_pyhf_scans_of_constraints():
    """No variations: 'statistics only' and '+ MC statistics' are constraints.Likelihood (pyhf's fit) without and
    with staterror; the full level adds the background normsys f, per category as constraints.Likelihood's (its
    combination names one normsys per category, ours one for the sample: correlated, so only categories compare)."""
    vs = _varied(norm={})
    vs = [VariedTemplates(v.category, v.edges, v.basis,
                          {"background": _h(v.nominal["qcd"].yields, 0.03), **{k: h for k, h in v.nominal.items()
                                                                                if k.startswith("signal")}},
                          {}, {"background": 0.02}) for v in vs]
    vs = vs[1:]  # two categories (pyhf's fits are slow)
    ts = [constraint_inputs.to_templates(v) for v in vs]
    kl = np.linspace(-20, 20, 41)
    for level, mc, f in (("statistics only", False, 0.0), ("+ MC statistics", True, 0.0),
                         ("+ all systematics", True, 0.02)):
        mine = systematics.level_scans(vs, kl, level)
        ref = [constraints.Likelihood.build([t], f=f, mc_stat=mc).scan(kl) for t in ts]
        ref.append(constraints.Likelihood.build(ts, f=f, mc_stat=mc).scan(kl))
        for a, b in zip(mine, ref if f == 0 else ref[:-1]):
            near = b.q < 20
            assert np.abs(a.q - b.q)[near].max() < 0.01, (level, a.category)


def test_interval_rows_three_levels_beside_the_paper():
    lv = systematics.all_levels(_varied(), KL)
    table = systematics.interval_rows(lv)
    assert list(table.index) == [n for n, _, _ in systematics.LEVELS]
    assert list(table.columns) == ["resolved", "intermediate", "boosted", "combined", "combined (published, f = 0.3 %)"]
    assert (table["combined (published, f = 0.3 %)"] == "[-0.8, 6.6]").all()
    widths = [lv[n][-1].interval().high - lv[n][-1].interval().low for n, _, _ in systematics.LEVELS]
    assert widths[0] < widths[1] < widths[2]  # each level can only widen the combined interval
    for scans in lv.values():
        assert all(s.q.min() == pytest.approx(0.0, abs=1e-6) for s in scans)


def test_scan_of_shared_parameters_equals_separate_models():
    """The per-category curves of one model with Poisson masks equal each category's own workspace."""
    vs = _varied()
    together = systematics.level_scans(vs, KL)
    for v, scan in zip(vs, together):
        alone = systematics.level_scans([v], KL)[0]
        assert np.abs(alone.q - scan.q)[alone.q < 20].max() < 1e-4


def test_empty_background_bins_merged_in_every_variation_or_refused():
    v = _varied()[0]
    nominal = {k: (SampleHistograms(np.r_[h.yields[:1], 0.0, h.yields[2:]], h.variances, np.r_[h.mc_events[:1], 0,
                                                                                             h.mc_events[2:]])
                   if not k.startswith("signal") else h) for k, h in v.nominal.items()}
    v = VariedTemplates(v.category, v.edges, v.basis, nominal, v.variations, v.norm_uncertainties)
    with pytest.raises(EmptyBinError, match="resolved"):
        systematics.workspace_spec([v])
    m = systematics.merge_empty(v, "merge")
    assert m.edges.tolist() == [200.0, 400.0, 500.0, 600.0, 700.0]
    up = v.variations["JES"][0]["qcd"].yields
    assert m.variations["JES"][0]["qcd"].yields[0] == pytest.approx(up[0] + up[1])
    assert systematics.workspace_spec([m])["channels"][0]["name"] == "resolved"


def test_split_separates_rate_and_shape():
    hi, lo, hd, ld = systematics.split(np.array([10.0, 30.0]), np.array([11.0, 33.0]), np.array([9.0, 27.0]))
    assert (hi, lo) == pytest.approx((1.1, 0.9))
    assert hd.tolist() == pytest.approx([10.0, 30.0]) and ld.tolist() == pytest.approx([10.0, 30.0])


def test_postfit_uncertainties_equal_the_hessian_of_pyhf_logpdf():
    """At kl = 1 (basis normfactors fixed): sqrt(diag(2 H^-1)) with H the finite-difference Hessian of pyhf's
    -2 Model.logpdf at the best fit (the Asimov nominal)."""
    spec = systematics.workspace_spec(_varied())
    model = systematics.CompiledModel.from_spec(spec)
    post = systematics.postfit(model)
    pyhf.set_backend("numpy")
    ws = pyhf.Workspace(spec)
    pm = ws.model()
    data = ws.data(pm)
    par = np.array(pm.config.suggested_init(), float)
    free = [k for k, fx in enumerate(pm.config.suggested_fixed()) if not fx]
    e = 1e-3

    def tn(di, i, dj, j):
        p = par.copy()
        p[i] += di
        p[j] += dj
        return float(-2 * pm.logpdf(p, data)[0])

    h = np.array([[(tn(e, i, e, j) - tn(e, i, -e, j) - tn(-e, i, e, j) + tn(-e, i, -e, j)) / (4 * e * e) for j in free]
                  for i in free])
    ref = np.sqrt(np.diag(2 * np.linalg.inv(h)))
    labels = []
    for n in pm.config.par_order:
        sl = pm.config.par_slice(n)
        k = sl.stop - sl.start
        labels += [n] if k == 1 and not n.startswith("mcstat") else [f"{n}[{i}]" for i in range(k)]
    for j, k in enumerate(free):
        assert post.loc[labels[k], "uncertainty"] == pytest.approx(ref[j], rel=1e-3), labels[k]


def test_postfit_uncertainties_agree_with_cabinetry_on_a_simple_model():
    """cabinetry.fit.fit (iminuit, strategy 2) on the same pyhf model: one category, one normsys and the MC
    statistics. (On the three-category model with several nearly degenerate normalisations iminuit's covariance
    departs from the Hessian of pyhf's own -2 ln L by up to 30 %, see the test above for the exact reference.)"""
    cabinetry = pytest.importorskip("cabinetry")
    v = _varied(norm={"qcd": 0.05})[0]
    v = VariedTemplates(v.category, v.edges, v.basis, v.nominal, {}, {"qcd": 0.05})
    spec = systematics.workspace_spec([v])
    post = systematics.postfit(systematics.CompiledModel.from_spec(spec))
    pyhf.set_backend("numpy")
    ws = pyhf.Workspace(spec)
    pm = ws.model()
    res = cabinetry.fit.fit(pm, ws.data(pm), strategy=2)
    for name, sigma in post["uncertainty"].items():
        j = list(res.labels).index(name)
        assert sigma == pytest.approx(float(res.uncertainty[j]), rel=0.02), name


def test_own_ntuples_with_a_tree_and_a_weight_variation_reach_the_interval_table(tmp_path):
    """A user's ROOT files (written by ROOT, production layout: tree ``nominal``, ``nominal__JES__1up/1down``,
    b-tag weight branches; helpers of tests/studies/test_constraint_inputs.py) described in a YAML with one tree
    and one weight variation: the three-row interval table and the impacts of JES, btag and the ttbar
    normalisation."""
    pytest.importorskip("ROOT")
    import yaml
    from studies import test_constraint_inputs as helpers  # the production-file writers (tests/ is on the path)

    from hhnb.config import analyses
    from hhnb.studies import constraint_inputs
    for name, seed, slope in (("hh_1", 1, 90.0), ("hh_2p5", 2, 100.0), ("hh_5p5", 3, 80.0), ("ttbar", 4, 50.0)):
        helpers._production(tmp_path / f"{name}.root", 1500, seed, slope)
    norm = {"cross_section": 10.0, "sum_of_weights": {"histogram": "metadata/sumOfWeights", "bin": 1}}
    spec = {"tree": "nominal", "weight": "weight_mc", "event": "eventNumber",
            "features": ["jet_pt[:, 0]", "mHH", "mH1", "mH2", "num(jet_pt)"],
            "masses": {"m_hh": "mHH", "h1_M": "mH1", "h2_M": "mH2"}, "selection": "jet_pt[:, 1] > 50",
            "classes": ["signal", "background"], "mhh_bins": [250, 350, 450, 700],
            "systematics": {"trees": {"JES": {"up": "{tree}__JES__1up", "down": "{tree}__JES__1down"}},
                            "weights": {"btag": {"up": "weight_btag_up", "down": "weight_btag_down"}}},
            "samples": [{"name": "hh_sm", "class": "signal", "lambdas": [1], "files": "hh_1.root", **norm},
                        {"name": "hh_2p5", "class": "signal", "lambdas": [2.5], "files": "hh_2p5.root", **norm},
                        {"name": "hh_5p5", "class": "signal", "lambdas": [5.5], "files": "hh_5p5.root", **norm},
                        {"name": "ttbar", "class": "background", "files": "ttbar.root", "norm_uncertainty": 0.06,
                         **norm, "cross_section": 3000.0}]}
    cfg = tmp_path / "mine.yaml"
    cfg.write_text(yaml.safe_dump({"luminosity": 300.0, "analyses": {"mine": spec}}))
    ana = analyses.load(cfg).analysis("mine")
    v = constraint_inputs.varied_templates(ana, helpers._MassScorer(), 1.0, tmp_path, test_only=False)
    v = systematics.merge_empty(v, "merge")
    lv = systematics.all_levels([v], KL)
    table = systematics.interval_rows(lv)
    assert list(table.index) == [n for n, _, _ in systematics.LEVELS]
    assert list(table.columns[:2]) == ["mine", "combined"]
    model = systematics.CompiledModel.from_spec(systematics.workspace_spec([v]))
    assert {"JES", "btag", "norm_ttbar"} <= set(model.alphas)
    imp = systematics.impacts(model)
    assert {"JES", "btag", "norm_ttbar"} <= set(imp.table.index)
    assert all(s.q.min() == pytest.approx(0.0, abs=1e-6) for ss in lv.values() for s in ss)


def test_cr_background_equal_to_the_simulation_gives_the_same_curves():
    """The background from control regions: one sample with the estimate's yields and data-like variance, moved by
    no detector variation. An estimate equal to the simulated backgrounds' sum (with their summed variance, no
    non-closure), in a model whose backgrounds carry no variation nor normalisation, gives the same likelihood."""
    base = _varied(norm={"signal_0": 0.05, "signal_1": 0.05, "signal_2": 0.05})
    signal_only = [replace(v, variations={s: ({k: h for k, h in u.items() if k.startswith("signal")},
                                              {k: h for k, h in d.items() if k.startswith("signal")})
                                          for s, (u, d) in v.variations.items()}) for v in base]
    cr = []
    for v in base:
        bkg = [h for k, h in v.nominal.items() if not k.startswith("signal")]
        cr.append(systematics.with_cr_background(v, sum(h.yields for h in bkg), sum(h.variances for h in bkg), 0.0))
    assert all(systematics.CR_BACKGROUND in v.nominal and "qcd" not in v.nominal for v in cr)
    for x, y in zip(systematics.level_scans(signal_only, KL), systematics.level_scans(cr, KL)):
        assert np.abs(x.q - y.q).max() < 1e-6
    # a non-closure of 20 % is a normsys on the estimate: it can only widen the combined curve
    wide = [systematics.with_cr_background(v, c.nominal[systematics.CR_BACKGROUND].yields,
                                           c.nominal[systematics.CR_BACKGROUND].variances, 0.2) for v, c in zip(base, cr)]
    a, b = systematics.level_scans(cr, KL)[-1], systematics.level_scans(wide, KL)[-1]
    assert (b.q <= a.q + 1e-6).all() and (b.q < a.q - 1e-3).any()
