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
