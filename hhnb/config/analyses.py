"""Analysis configuration: the YAML file that says where the ntuples are and what to train on.

The shipped ``analyses.yaml`` describes the toy ntuples; a user's own file has the
same layout. Every file is validated on load against a JSON schema, and errors
name the file, the key and what was expected.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from hhnb import errors as _errors
from hhnb import layout
from hhnb.config import lambdas as _lambdas
from hhnb.errors import ConfigError
from hhnb.layout import DEFAULT_TREE

DEFAULT_CONFIG = layout.default_config()

_NAME = {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}
_STRINGS = {"type": "array", "items": {"type": "string"}, "minItems": 1}
_FEATURE = {
    "oneOf": [
        {"type": "string", "minLength": 1},
        {"type": "object", "additionalProperties": False, "required": ["expr"],
         "properties": {"expr": {"type": "string", "minLength": 1}, "pad": {"type": "number"}}},
    ]
}
_SUM_OF_WEIGHTS = {
    "oneOf": [
        {"type": "object", "additionalProperties": False, "required": ["tree", "branch"],
         "properties": {"tree": {"type": "string"}, "branch": {"type": "string"}}},
        {"type": "object", "additionalProperties": False, "required": ["histogram"],
         "properties": {"histogram": {"type": "string"}, "bin": {"type": "integer", "minimum": 0}}},
    ]
}
#: the value of a feature ``x[:, i]`` for an event whose collection has no element i (hhnb.io.expressions)
DEFAULT_PAD = 0.0
NEGATIVE_WEIGHTS = ("abs", "keep", "zero")  # the training policy for negative generator weights; first = default
_UP_DOWN = {"type": "object", "additionalProperties": False, "required": ["up", "down"],
            "properties": {"up": {"type": "string", "minLength": 1}, "down": {"type": "string", "minLength": 1}}}
_RELATIVE = {"type": "number", "exclusiveMinimum": 0, "maximum": 10}
#: systematic uncertainties of a user's own ntuples (issue 25): tree variations (a tree name per direction;
#: ``{tree}`` is the sample's nominal tree), weight variations (a weight branch or expression per direction,
#: the full event weight), normalisation uncertainties per sample (relative, 0.1 = 10 %)
_SYSTEMATICS = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "trees": {"type": "object", "propertyNames": _NAME, "additionalProperties": _UP_DOWN},
        "weights": {"type": "object", "propertyNames": _NAME, "additionalProperties": _UP_DOWN},
        "normalisation": {"type": "object", "propertyNames": _NAME, "additionalProperties": _RELATIVE},
    },
}
_TAG_FORMAT = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "point": {"type": "string"},
        "minus": {"type": "string", "minLength": 1},
        "decimals": {"type": ["integer", "null"], "minimum": 0},
    },
}

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["analyses"],
    "properties": {
        "luminosity": {"type": "number", "exclusiveMinimum": 0},
        "analyses": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": _NAME,
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "required": ["features", "samples", "classes"],
                "properties": {
                    "description": {"type": "string"},
                    "toy": {"type": "boolean"},
                    "tree": {"type": "string"},
                    "tag_format": _TAG_FORMAT,
                    "weight": {"type": ["string", "null"]},
                    "event": {"type": ["string", "null"]},
                    "features": {"type": "array", "items": _FEATURE, "minItems": 1},
                    "pad": {"type": "number"},
                    "negative_weights": {"enum": list(NEGATIVE_WEIGHTS)},
                    "masses": {"type": "object", "additionalProperties": {"type": "string"}},
                    "selection": {"type": ["string", "null"]},
                    "classes": {**_STRINGS, "minItems": 2},
                    "luminosity": {"type": "number", "exclusiveMinimum": 0},
                    "learning_rate": {"type": "number", "exclusiveMinimum": 0},
                    "mhh_bins": {"type": "array", "items": {"type": "number"}, "minItems": 2},
                    "decorrelate": _STRINGS,
                    "systematics": _SYSTEMATICS,
                    "samples": {
                        "type": "array",
                        "minItems": 2,
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["name", "class", "files"],
                            "properties": {
                                "name": _NAME,
                                "class": {"type": "string"},
                                "files": {
                                    "oneOf": [{"type": "string"}, _STRINGS],
                                },
                                "tree": {"type": "string"},
                                "cross_section": {"type": "number", "exclusiveMinimum": 0},
                                "sum_of_weights": _SUM_OF_WEIGHTS,
                                "lambdas": {"type": "array", "items": {"type": ["number", "string"]}, "minItems": 1},
                                "tag_format": _TAG_FORMAT,
                                "selection": {"type": "string"},
                                "norm_uncertainty": _RELATIVE,
                            },
                        },
                    },
                },
            },
        },
    },
}



@dataclass(frozen=True)
class TagFormat:
    """How the ``{tag}`` of a sample's file names spells a kappa_lambda value.

    The default is hhnb's own (``1.0``, ``m5.0``); a production named ``kl_1p00``,
    ``kl_m5p00`` has ``point="p"``, ``decimals=2``; ``klminus5p0`` has ``minus="minus"``.

    >>> TagFormat().format(-5), TagFormat(point="p", decimals=2).format(1), TagFormat("p", "minus", 1).format(-5)
    ('m5.0', '1p00', 'minus5p0')
    """

    point: str = "."
    minus: str = "m"
    decimals: int | None = None

    def format(self, kl: object) -> str:
        value = _lambdas.parse(kl)
        text = repr(abs(value)) if self.decimals is None else f"{abs(value):.{self.decimals}f}"
        return (self.minus if value < 0 else "") + text.replace(".", self.point)


@dataclass(frozen=True)
class Variation:
    """One systematic variation, up and down: tree names (``{tree}``: the sample's nominal tree) or weight
    expressions (the full event weight under the variation)."""

    name: str
    up: str
    down: str

    def tree(self, nominal: str, direction: str) -> str:
        """The tree of this (tree) variation for a sample whose nominal tree is ``nominal``.

        >>> Variation("JES", "{tree}__JES__1up", "{tree}__JES__1down").tree("nominal", "down")
        'nominal__JES__1down'
        """
        return self.of(direction).replace("{tree}", nominal)

    def of(self, direction: str) -> str:
        if direction not in layout.DIRECTIONS:
            raise ValueError(f"direction {direction!r}: expected up or down")
        return self.up if direction == "up" else self.down


@dataclass(frozen=True)
class Systematics:
    """The ``systematics`` section of an analysis: tree variations, weight variations and the relative
    normalisation uncertainty of each sample (from ``normalisation`` or the sample's ``norm_uncertainty``)."""

    trees: tuple[Variation, ...] = ()
    weights: tuple[Variation, ...] = ()
    normalisation: dict[str, float] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        """Every variation's name, tree variations first."""
        return [v.name for v in (*self.trees, *self.weights)]

    def __bool__(self) -> bool:
        return bool(self.trees or self.weights or self.normalisation)


@dataclass(frozen=True)
class Sample:
    """One physics process: its files, class and (without a weight branch) cross section in fb."""

    name: str
    klass: str
    files: tuple[str, ...]
    tree: str
    cross_section: float | None = None
    #: where the sum of generator weights that normalises the sample is stored: ``{"tree": "Runs", "branch":
    #: "genEventSumw"}`` (summed over the files) or ``{"histogram": "metadata/sumOfWeights", "bin": 1}``
    sum_of_weights: dict[str, Any] | None = None
    lambdas: tuple[float, ...] | None = None  # signal: the lambdas it provides (None = any via {tag})
    selection: str | None = None
    tag_format: TagFormat = TagFormat()
    norm_uncertainty: float | None = None  # relative cross-section / normalisation uncertainty (0.1 = 10 %)

    @property
    def is_lambda_dependent(self) -> bool:
        return self.lambdas is not None or any("{tag}" in f for f in self.files)

    def provides(self, kl: float) -> bool:
        """True if the sample holds events at kappa_lambda ``kl`` (declared lambdas, or any via ``{tag}``)."""
        if self.lambdas is not None:
            return any(abs(kl - v) < 1e-9 for v in self.lambdas)
        return True


@dataclass(frozen=True)
class Analysis:
    """One analysis category: what to read, what to train on, how to select."""

    name: str
    tree: str
    features: tuple[str, ...]
    classes: tuple[str, ...]
    samples: tuple[Sample, ...]
    source: Path
    description: str = ""
    toy: bool = False
    weight: str | None = None
    event: str | None = None
    masses: dict[str, str] = field(default_factory=dict)
    selection: str | None = None
    luminosity: float = 3000.0
    learning_rate: float | None = None  # quoted at batch 100; None: hhnb.config.training.LEARNING_RATE
    mhh_bins: tuple[float, ...] = ()
    #: the mass columns a decorrelated training (DisCo, flat) keeps the score independent of (hhnb.nn.decorrelation)
    decorrelate: tuple[str, ...] = ()
    pads: dict[str, float] = field(default_factory=dict)  # feature expression -> its value where x[:, i] is missing
    pad: float = DEFAULT_PAD  # the pad of features that set none
    negative_weights: str = NEGATIVE_WEIGHTS[0]  # training policy for negative weights (evaluation keeps the sign)
    systematics: Systematics = Systematics()

    def pad_of(self, feature: str) -> float:
        """The value a feature takes where an element it reads (``x[:, i]``) is missing."""
        return float(self.pads.get(feature, self.pad))

    def feature_pads(self) -> dict[str, float]:
        """Every feature with its pad: what the model card records, so apply computes the same inputs."""
        return {f: self.pad_of(f) for f in self.features}

    @property
    def signal_class(self) -> str:
        return self.classes[0]

    def samples_of(self, klass: str) -> list[Sample]:
        return [s for s in self.samples if s.klass == klass]

    def samples_at(self, kl: float) -> list[Sample]:
        """The samples a network for kappa_lambda ``kl`` reads: every background, and the signal
        sample(s) that provide ``kl``; an error lists the lambdas the signal samples provide."""
        signal = [s for s in self.samples_of(self.signal_class) if s.provides(kl)]
        if not signal:
            offered = sorted({v for s in self.samples_of(self.signal_class) for v in (s.lambdas or ())})
            raise ConfigError(
                f"analysis {self.name!r} has no signal sample for lambda {_lambdas.tag(kl)}: available lambdas "
                f"{', '.join(_lambdas.tag(v) for v in offered)} (config {self.source}; declare it under a "
                "signal sample's 'lambdas')"
            )
        return [s for s in self.samples if s.klass != self.signal_class or s in signal]


@dataclass(frozen=True)
class Config:
    """A validated configuration file."""

    path: Path
    luminosity: float
    analyses: dict[str, Analysis]

    def analysis(self, name: str) -> Analysis:
        """Return one analysis, or raise a ConfigError that lists the known ones."""
        if name not in self.analyses:
            close = difflib.get_close_matches(str(name), list(self.analyses), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(
                f"unknown analysis {name!r} in {self.path}{hint}: "
                f"expected one of {', '.join(sorted(self.analyses))}"
            )
        return self.analyses[name]


def _where(error: jsonschema.ValidationError) -> str:
    parts = [str(p) for p in error.absolute_path]
    return ".".join(parts) if parts else "(top level)"


def _check(path: Path, raw: Any) -> None:
    validator = jsonschema.Draft202012Validator(SCHEMA)
    errors = sorted(validator.iter_errors(raw), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        err = errors[0]
        if err.validator == "oneOf" and err.context:
            err = err.context[0]
        lines = [f"{path}: key {_where(e)}: {e.message}" for e in errors[:5]]
        if len(errors) == 1:  # one problem, one line
            raise ConfigError(lines[0])
        raise ConfigError("invalid configuration\n  " + "\n  ".join(lines))


def _resolve_files(patterns: str | list[str], base: Path) -> tuple[str, ...]:
    items = [patterns] if isinstance(patterns, str) else list(patterns)
    out = []
    for item in items:
        if "{data_dir}" in item or Path(item).is_absolute() or "://" in item:
            out.append(item)
        else:
            out.append(str(base / item))
    return tuple(out)


def _build(path: Path, raw: dict[str, Any]) -> Config:
    lumi = float(raw.get("luminosity", 3000.0))
    analyses: dict[str, Analysis] = {}
    for name, spec in raw["analyses"].items():
        classes = tuple(spec["classes"])
        tree = spec.get("tree", DEFAULT_TREE)
        tag_format = TagFormat(**spec.get("tag_format", {}))
        samples = []
        for i, s in enumerate(spec["samples"]):
            if s["class"] not in classes:
                raise ConfigError(
                    f"{path}: key analyses.{name}.samples.{i}.class: {s['class']!r} is not "
                    f"one of the analysis classes {list(classes)}"
                )
            if "sum_of_weights" in s and "cross_section" not in s:
                raise ConfigError(
                    f"{path}: key analyses.{name}.samples.{i}: sample {s['name']!r} has 'sum_of_weights' but no "
                    "'cross_section' (fb): the event weight is cross section x luminosity x weight / sum of weights"
                )
            if "sum_of_weights" in s and not spec.get("weight"):
                raise ConfigError(
                    f"{path}: key analyses.{name}.samples.{i}: sample {s['name']!r} has 'sum_of_weights' but the "
                    "analysis has no 'weight' (the generator weight branch, e.g. genWeight)"
                )
            if not spec.get("weight") and "cross_section" not in s:
                raise ConfigError(
                    f"{path}: key analyses.{name}.samples.{i}: sample {s['name']!r} needs "
                    "'cross_section' (fb) because the analysis has no 'weight' branch"
                )
            try:
                lams = tuple(_lambdas.parse(v) for v in s["lambdas"]) if "lambdas" in s else None
            except ValueError as exc:
                raise ConfigError(f"{path}: key analyses.{name}.samples.{i}.lambdas: {exc}") from None
            samples.append(
                Sample(
                    name=s["name"],
                    klass=s["class"],
                    files=_resolve_files(s["files"], path.parent),
                    tree=s.get("tree", tree),
                    cross_section=s.get("cross_section"),
                    sum_of_weights=dict(s["sum_of_weights"]) if "sum_of_weights" in s else None,
                    lambdas=lams,
                    selection=s.get("selection"),
                    tag_format=TagFormat(**s["tag_format"]) if "tag_format" in s else tag_format,
                    norm_uncertainty=float(s["norm_uncertainty"]) if "norm_uncertainty" in s else None,
                )
            )
        signal = [s for s in samples if s.klass == classes[0]]
        if not signal:
            raise ConfigError(
                f"{path}: key analyses.{name}.samples: no sample of the signal class "
                f"{classes[0]!r} (the first entry of 'classes')"
            )
        missing = [k for k in classes if not any(s.klass == k for s in samples)]
        if missing:
            raise ConfigError(
                f"{path}: key analyses.{name}.classes: no sample for class(es) {missing}"
            )
        systematics = _systematics(path, name, spec, samples)
        features = tuple(f if isinstance(f, str) else f["expr"] for f in spec["features"])
        pads = {f["expr"]: float(f["pad"]) for f in spec["features"] if isinstance(f, dict) and "pad" in f}
        analyses[name] = Analysis(
            name=name,
            tree=tree,
            features=features,
            pads=pads,
            pad=float(spec.get("pad", DEFAULT_PAD)),
            negative_weights=spec.get("negative_weights", NEGATIVE_WEIGHTS[0]),
            classes=classes,
            samples=tuple(samples),
            source=path,
            description=spec.get("description", ""),
            toy=bool(spec.get("toy", False)),
            weight=spec.get("weight"),
            event=spec.get("event"),
            masses=dict(spec.get("masses", {})),
            selection=spec.get("selection"),
            luminosity=float(spec.get("luminosity", lumi)),
            learning_rate=None if spec.get("learning_rate") is None else float(spec["learning_rate"]),
            mhh_bins=tuple(float(b) for b in spec.get("mhh_bins", ())),
            decorrelate=tuple(spec.get("decorrelate", ())),
            systematics=systematics,
        )
    return Config(path=path, luminosity=lumi, analyses=analyses)


def _systematics(path: Path, name: str, spec: dict[str, Any], samples: list[Sample]) -> Systematics:
    """The analysis' ``systematics`` section as records; a name used twice, a sample that does not exist, a
    normalisation given twice or weight variations without a ``weight`` are one line naming the key."""
    raw = spec.get("systematics") or {}
    key = f"{path}: key analyses.{name}.systematics"
    trees = tuple(Variation(k, v["up"], v["down"]) for k, v in (raw.get("trees") or {}).items())
    weights = tuple(Variation(k, v["up"], v["down"]) for k, v in (raw.get("weights") or {}).items())
    both = sorted({v.name for v in trees} & {v.name for v in weights})
    if both:
        raise ConfigError(f"{key}: variation {both[0]!r} is both a tree and a weight variation: give it one name each")
    if weights and not spec.get("weight"):
        raise ConfigError(f"{key}.weights: weight variations need the analysis 'weight' (the nominal event weight)")
    names = [s.name for s in samples]
    norm = {s.name: s.norm_uncertainty for s in samples if s.norm_uncertainty is not None}
    for sample, size in (raw.get("normalisation") or {}).items():
        if sample not in names:
            close = difflib.get_close_matches(sample, names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"{key}.normalisation.{sample}: no sample {sample!r} in the analysis{hint}: "
                              f"expected one of {', '.join(names)}")
        if sample in norm:
            raise ConfigError(f"{key}.normalisation.{sample}: sample {sample!r} already has a norm_uncertainty: "
                              "give it in one place")
        norm[sample] = float(size)
    return Systematics(trees, weights, norm)


def load(path: str | Path | None = None) -> Config:
    """Load and validate a configuration file (None = the shipped ``analyses.yaml``)."""
    p = Path(path).expanduser().resolve() if path is not None else DEFAULT_CONFIG
    if not p.is_file():
        raise _errors.MissingInputFile(f"configuration file {p} does not exist")
    try:
        raw = yaml.safe_load(p.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f"{p}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{p}: expected a mapping with the key 'analyses', got {type(raw).__name__}")
    _check(p, raw)
    return _build(p, raw)


def analysis(name: str, config: str | Path | Config | None = None) -> Analysis:
    """Return one analysis from a config (a path, a loaded Config, or None = shipped)."""
    cfg = config if isinstance(config, Config) else load(config)
    return cfg.analysis(name)
