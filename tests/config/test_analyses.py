"""hhnb.config.analyses: the shipped config, user configs, their validation errors, and signal file-name tags."""

import textwrap

import pytest

from hhnb.config import analyses as config
from hhnb.config.analyses import TagFormat
from hhnb.errors import ConfigError


def _write(tmp_path, text):
    p = tmp_path / "my.yaml"
    p.write_text(textwrap.dedent(text))
    return p


GOOD = """
luminosity: 300
analyses:
  mine:
    tree: Events
    features: [a, b]
    classes: [signal, background]
    samples:
      - {name: sig, class: signal, files: "ntuples/sig_*.root", cross_section: 1.5}
      - {name: bkg, class: background, files: ["ntuples/bkg.root"], cross_section: 100}
"""


def test_shipped_config():
    cfg = config.load()
    assert set(cfg.analyses) == {"resolved", "intermediate", "boosted", "tthh"}
    res = cfg.analysis("resolved")
    assert len(res.features) == 20 and res.tree == "preselection" and res.classes == ("signal", "qcd", "top")
    assert cfg.analysis("boosted").learning_rate is None and cfg.analysis("tthh").learning_rate == 1e-3  # None: the default
    assert cfg.luminosity == 3000


def test_user_config_paths_relative_to_file(tmp_path):
    cfg = config.load(_write(tmp_path, GOOD))
    mine = cfg.analysis("mine")
    assert mine.luminosity == 300
    assert mine.samples[0].files == (str(tmp_path / "ntuples/sig_*.root"),)
    assert mine.samples[1].tree == "Events"


@pytest.mark.parametrize("edit,expected", [
    (("tree: Events", "tree: Events\n    colour: red"), r"analyses\.mine.*'colour' was unexpected"),
    (("    features: [a, b]\n", ""), r"analyses\.mine.*'features' is a required property"),
    (("features: [a, b]", "features: a"), r"analyses\.mine\.features.*not of type 'array'"),
    (("luminosity: 300", "luminosity: lots"), r"key luminosity.*not of type 'number'"),
    (("cross_section: 1.5}", "cross_section: 1.5, klass: x}"), r"samples\.0.*'klass' was unexpected"),
    (("class: background", "class: bkgd"), r"samples\.1\.class: 'bkgd' is not one of the analysis classes"),
    (("cross_section: 100", "xsec: 100"), r"samples\.1"),
])
def test_validation_errors_name_file_and_key(tmp_path, edit, expected):
    path = _write(tmp_path, GOOD.replace(*edit))
    with pytest.raises(ConfigError, match=expected) as info:
        config.load(path)
    assert str(path) in str(info.value)


def test_missing_cross_section_without_weight_branch(tmp_path):
    path = _write(tmp_path, GOOD.replace(", cross_section: 100", ""))
    with pytest.raises(ConfigError, match="needs 'cross_section'"):
        config.load(path)


def test_unknown_analysis_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="did you mean 'boosted'"):
        config.analysis("bosted")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        config.load(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("analyses: [1, 2\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        config.load(bad)


def test_tag_formats():
    assert TagFormat(point="p", decimals=2).format(1) == "1p00"
    assert TagFormat(point="p", minus="m", decimals=1).format(-5) == "m5p0"
    assert TagFormat(point="p", minus="minus", decimals=1).format(-0.5) == "minus0p5"
    assert TagFormat().format(-5) == "m5.0"


# -- the systematics section (issue 25) ------------------------------------------------------------------

SYST = """
analyses:
  mine:
    tree: nominal
    weight: weight_mc
    features: [a, b]
    classes: [signal, background]
    systematics:
      trees:
        JES: {up: "{tree}__JES__1up", down: "{tree}__JES__1down"}
        JER: {up: JET_JER__1up, down: "{tree}"}
      weights:
        btag: {up: weight_btag_up, down: weight_btag_down}
      normalisation: {ttbar: 0.06}
    samples:
      - {name: sig, class: signal, files: sig.root, cross_section: 1.0}
      - {name: ttbar, class: background, files: tt.root, tree: tt_nominal, cross_section: 1.0}
      - {name: multijet, class: background, files: qcd.root, norm_uncertainty: 0.3, cross_section: 1.0}
"""


def test_systematics_section_parses_into_records(tmp_path):
    ana = config.load(_write(tmp_path, SYST)).analysis("mine")
    s = ana.systematics
    assert [v.name for v in s.trees] == ["JES", "JER"] and s.names == ["JES", "JER", "btag"]
    tt = ana.samples[1]
    assert s.trees[0].tree(tt.tree, "up") == "tt_nominal__JES__1up"
    assert s.trees[1].tree(tt.tree, "up") == "JET_JER__1up" and s.trees[1].tree(tt.tree, "down") == "tt_nominal"
    assert s.weights[0].of("down") == "weight_btag_down"
    assert s.normalisation == {"multijet": 0.3, "ttbar": 0.06}  # sample field and section together
    assert ana.samples[2].norm_uncertainty == 0.3 and ana.samples[0].norm_uncertainty is None
    bare = config.load(_write(tmp_path, GOOD)).analysis("mine").systematics
    assert not bare and bare.names == [] and bare.normalisation == {}


def test_shipped_toy_systematics():
    cfg = config.load()
    for name in ("resolved", "intermediate", "boosted"):
        s = cfg.analysis(name).systematics
        assert [v.tree("preselection", "up") for v in s.trees] == ["preselection__JES__1up", "preselection__JER__1up"]
        assert [(v.up, v.down) for v in s.weights] == [("weight_btag__1up", "weight_btag__1down")]
        assert s.normalisation == {"qcd_4b": 0.3, "qcd_2b2j": 0.3, "ttbar": 0.06}  # multijet larger
    assert cfg.analysis("tthh").systematics.normalisation == {"ttbb": 0.3, "tth": 0.1, "ttz": 0.1}


@pytest.mark.parametrize("old,new,expected", [
    ('JER: {up: JET_JER__1up, down: "{tree}"}', "JER: {up: JET_JER__1up}",
     "key analyses.mine.systematics.trees.JER: 'down' is a required property"),
    ("normalisation: {ttbar: 0.06}", "normalisation: {ttbarr: 0.06}",
     "key analyses.mine.systematics.normalisation.ttbarr: no sample 'ttbarr' in the analysis (did you mean 'ttbar'?)"),
    ("normalisation: {ttbar: 0.06}", "normalisation: {multijet: 0.2}",
     "normalisation.multijet: sample 'multijet' already has a norm_uncertainty"),
    ("normalisation: {ttbar: 0.06}", "normalisation: {ttbar: -0.06}",
     "key analyses.mine.systematics.normalisation.ttbar: -0.06 is less than or equal to the minimum of 0"),
    ("btag: {up:", "JES: {up:", "variation 'JES' is both a tree and a weight variation"),
    ("    weight: weight_mc\n", "", "systematics.weights: weight variations need the analysis 'weight'"),
    ("      normalisation:", "      shapes: {a: 1}\n      normalisation:",
     "key analyses.mine.systematics: Additional properties are not allowed ('shapes' was unexpected)"),
])
def test_systematics_errors_are_one_line(tmp_path, old, new, expected):
    with pytest.raises(ConfigError) as err:
        config.load(_write(tmp_path, SYST.replace(old, new, 1)))
    text = str(err.value)
    assert "\n" not in text and expected in text and str(tmp_path / "my.yaml") in text, text
