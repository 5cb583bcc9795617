"""The generated pages of the documentation site: CLI, configuration and API references, the bench table.

Every function here returns Markdown (MyST) text built from the code itself, so a page never disagrees with
what it describes:

* :func:`cli_markdown`: every ``hhnb`` subcommand and option, read off the real argument parsers
  (``hhnb.cli.build_parser`` and each ``hhnb/commands/<name>.py``'s ``add_arguments``);
* :func:`config_markdown`: every key of the analyses YAML, read off the JSON schema
  (``hhnb.config.analyses.SCHEMA``), with the type, whether it is required, the default, a description
  (the schema's own ``description`` when it has one, else :data:`KEYS` below) and an example (from the shipped
  ``analyses.yaml`` when it uses the key, else :data:`KEYS`);
* :func:`api_pages`: one page per stage of the package, ``automodule`` of every public module;
* :func:`bench_markdown`: the ``make bench`` table from ``runs/bench/bench.csv`` with its commit and date,
  and the stored slow rows (``benchmarks/stored/*.json``).

This module imports no Sphinx (``tests/docs/test_reference.py`` checks the text without building the site);
:mod:`hhnb_docs` is the Sphinx extension that writes these pages at build time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import pkgutil
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

# --------------------------------------------------------------------------------------------------- CLI


def subcommand_parsers() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The top-level parser and each subcommand's parser with its options loaded (the CLI loads one at a time)."""
    from hhnb import cli

    top = cli.build_parser([])
    subs = {}
    for name in cli.COMMANDS:
        parser = cli.build_parser([name])
        action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        subs[name] = action.choices[name]
    return top, subs


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _option_name(action: argparse.Action) -> str:
    if not action.option_strings:  # positional
        return f"`{action.metavar or action.dest}`"
    return ", ".join(f"`{o}`" for o in action.option_strings)


def _value(action: argparse.Action) -> str:
    """What the option takes: nothing (a flag), its choices, or its metavar."""
    if action.nargs == 0:
        return "flag"
    if action.choices:
        return "one of " + ", ".join(f"`{c}`" for c in action.choices)
    metavar = action.metavar or (action.dest.upper() if action.option_strings else action.dest)
    kind = {int: "integer", float: "number"}.get(action.type, "text")
    many = {"+": " (one or more)", "*": " (any number)"}.get(action.nargs, "")
    repeat = " (repeatable)" if isinstance(action, argparse._AppendAction) else ""
    return f"`{metavar}`: {kind}{many}{repeat}"


def _default(action: argparse.Action) -> str:
    if action.required:
        return "required"
    if not action.option_strings:
        return "required" if action.nargs in ("+", None) else ""
    if action.nargs == 0 or action.default in (None, [], argparse.SUPPRESS):
        return ""
    return f"`{action.default}`"


def _help(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    if not action.help:
        return ""
    return parser._get_formatter()._expand_help(action)


def _options_table(parser: argparse.ArgumentParser) -> list[str]:
    rows = ["| option | value | default | meaning |", "|---|---|---|---|"]
    groups = {id(a): g for g in parser._mutually_exclusive_groups for a in g._group_actions}
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
            continue
        meaning = _help(parser, action)
        group = groups.get(id(action))
        if group is not None:
            others = [o.option_strings[0] for o in group._group_actions if o is not action]
            meaning += f" (exclusive with {', '.join(others)}" + ("; one of them is required)" if group.required
                                                                  else ")")
        rows.append(f"| {_option_name(action)} | {_cell(_value(action))} | {_cell(_default(action))} | "
                    f"{_cell(meaning)} |")
    return rows


def cli_markdown() -> str:
    """The CLI reference: the global options, then each subcommand's usage and its table of options."""
    from hhnb import cli

    top, subs = subcommand_parsers()
    lines = ["Every subcommand of `hhnb` with every option, read off its argument parser when the site is built.",
             "`hhnb COMMAND --help` prints the same.", "", "```text", top.format_usage().strip(), "```", "",
             "## Global options", ""]
    lines += _options_table(top)
    lines += ["", "| command | what it does |", "|---|---|"]
    lines += [f"| [`hhnb {name}`](#hhnb-{name}) | {_cell(text)} |" for name, text in cli.COMMANDS.items()]
    for name, parser in subs.items():
        lines += ["", f"(hhnb-{name})=", f"## hhnb {name}", "", _cell(parser.description or cli.COMMANDS[name]), "",
                  "```text", parser.format_usage().strip(), "```", ""]
        lines += _options_table(parser)
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------------- configuration

#: key path ('*' = an analysis name, '[]' = an item of a list) -> description, default, example.
#: The schema's own "description" takes precedence; the shipped analyses.yaml gives the example when it uses the key.
KEYS: dict[str, dict[str, str]] = {
    "luminosity": {"doc": "integrated luminosity in fb^-1 for every analysis (an analysis may set its own)",
                   "default": "3000"},
    "analyses": {"doc": "the analyses, by name (letters, digits, underscores); each is one network per kappa_lambda"},
    "analyses.*.description": {"doc": "one line shown in tables and notebooks", "default": "empty"},
    "analyses.*.toy": {"doc": "the analysis is made by `hhnb generate` (the shipped toy); `train(generate=True)` "
                              "writes its missing files", "default": "false"},
    "analyses.*.tree": {"doc": "tree (TTree or RNTuple) that holds the events, for every sample",
                        "default": "`preselection` (hhnb.layout.DEFAULT_TREE)", "example": "Events"},
    "analyses.*.tag_format": {"doc": "how `{tag}` in file names spells kappa_lambda (per analysis; a sample may "
                                     "override it)", "default": "hhnb's own: `1.0`, `m5.0`",
                              "example": "{point: p, minus: m, decimals: 2}"},
    "analyses.*.tag_format.point": {"doc": "what replaces the decimal point", "default": "`.`", "example": "p"},
    "analyses.*.tag_format.minus": {"doc": "the prefix of negative values", "default": "`m`", "example": "minus"},
    "analyses.*.tag_format.decimals": {"doc": "fixed number of decimals (null: Python's shortest repr)",
                                       "default": "null", "example": "2"},
    "analyses.*.weight": {"doc": "per-event weight branch or expression (signed weights allowed); null: every event "
                                 "weighs cross_section x luminosity / N", "default": "null", "example": "genWeight"},
    "analyses.*.event": {"doc": "event-number branch: the folds (event % k) and the test set; null: entry numbers "
                                "(only with `entry_as_event`)", "default": "null", "example": "event"},
    "analyses.*.features": {"doc": "network inputs: branch names or expressions over collections "
                                   "(`Jet_pt[:, 0]`, `num(Jet_pt)`), or `{expr, pad}`",
                            "example": "[\"Jet_pt[:, 0]\", {expr: \"Jet_pt[:, 3]\", pad: -1}, MET_pt]"},
    "analyses.*.features[].expr": {"doc": "the feature's expression (the `{expr, pad}` form)",
                                   "example": "Jet_pt[:, 3]"},
    "analyses.*.features[].pad": {"doc": "value where the expression reads a missing element (e.g. a 4th jet)",
                                  "default": "the analysis' `pad`", "example": "-1"},
    "analyses.*.pad": {"doc": "value of every feature that reads a missing element and sets no pad of its own",
                       "default": "0", "example": "-1"},
    "analyses.*.negative_weights": {"doc": "training policy for negative weights: `abs` (|w|), `keep`, `zero`; every "
                                           "quoted number keeps the sign", "default": "`abs`", "example": "keep"},
    "analyses.*.masses": {"doc": "name -> branch or expression of the masses the correlation, constraints and "
                                 "decorrelation studies use (`m_hh` is the one binned for kappa_lambda)",
                          "default": "none", "example": "{m_hh: mHH, h1_M: mH1, h2_M: mH2}"},
    "analyses.*.selection": {"doc": "event selection, an expression over branches (`&`, `|`, `abs`, ...)",
                             "default": "none (every event)", "example": "(nJet >= 4) & HLT_PFHT1050"},
    "analyses.*.classes": {"doc": "the network's classes; the first is the signal (two or more)",
                           "example": "[signal, background]"},
    "analyses.*.luminosity": {"doc": "this analysis' luminosity in fb^-1", "default": "the top-level `luminosity`"},
    "analyses.*.learning_rate": {"doc": "learning rate quoted at batch 100, scaled to the batch size",
                                 "default": "hhnb.config.training.LEARNING_RATE", "example": "0.005"},
    "analyses.*.mhh_bins": {"doc": "m_hh bin edges (GeV) of the kappa_lambda constraint after the network cut",
                            "default": "none (no interval for this analysis)"},
    "analyses.*.decorrelate": {"doc": "masses (keys of `masses`) a decorrelated training keeps the score "
                                      "independent of (DisCo or flat weights)", "default": "none",
                               "example": "[h1_M, h2_M]"},
    "analyses.*.systematics": {"doc": "systematic uncertainties of your own ntuples: tree variations, weight "
                                      "variations and normalisation uncertainties", "default": "none",
                               "example": "{trees: {JES: {up: \"{tree}__JES__1up\", down: \"{tree}__JES__1down\"}}}"},
    "analyses.*.systematics.trees": {"doc": "variation name -> the tree of each direction (`{tree}`: the sample's "
                                            "nominal tree)", "default": "none"},
    "analyses.*.systematics.trees.*.up": {"doc": "tree of the up variation", "example": "{tree}__JES__1up"},
    "analyses.*.systematics.trees.*.down": {"doc": "tree of the down variation", "example": "{tree}__JES__1down"},
    "analyses.*.systematics.weights": {"doc": "variation name -> the full event weight (branch or expression) of "
                                              "each direction; needs the analysis' `weight`", "default": "none"},
    "analyses.*.systematics.weights.*.up": {"doc": "event weight of the up variation", "example": "weight_btag_up"},
    "analyses.*.systematics.weights.*.down": {"doc": "event weight of the down variation",
                                              "example": "weight_btag_down"},
    "analyses.*.systematics.normalisation": {"doc": "sample name -> relative normalisation uncertainty (0.1 = 10 %)",
                                             "default": "none", "example": "{ttbar: 0.1}"},
    "analyses.*.samples[].norm_uncertainty": {"doc": "this sample's relative normalisation (cross-section) "
                                                     "uncertainty, 0.1 = 10 % (or give it under "
                                                     "`systematics.normalisation`)", "default": "none",
                                              "example": "0.1"},
    "analyses.*.samples": {"doc": "the physics processes, two or more; each sample belongs to one class"},
    "analyses.*.samples[].name": {"doc": "sample name (letters, digits, underscores), used in tables and files"},
    "analyses.*.samples[].class": {"doc": "one of the analysis' `classes`"},
    "analyses.*.samples[].files": {"doc": "file, glob or list of them; relative to the YAML file; `{data_dir}` is the "
                                          "data folder, `{tag}` the lambda tag", "example": "\"nano/TTTo*.root\""},
    "analyses.*.samples[].tree": {"doc": "tree of this sample's files", "default": "the analysis' `tree`"},
    "analyses.*.samples[].cross_section": {"doc": "cross section in fb: needed without a `weight`, or with "
                                                  "`sum_of_weights`", "default": "none", "example": "377960"},
    "analyses.*.samples[].sum_of_weights": {"doc": "where the sum of generator weights is stored: the event weight is "
                                                   "then cross_section x luminosity x weight / sum",
                                            "default": "none (the weight branch is already normalised)",
                                            "example": "{tree: Runs, branch: genEventSumw}"},
    "analyses.*.samples[].sum_of_weights.tree": {"doc": "tree whose branch is summed over the files",
                                                 "example": "Runs"},
    "analyses.*.samples[].sum_of_weights.branch": {"doc": "the branch summed", "example": "genEventSumw"},
    "analyses.*.samples[].sum_of_weights.histogram": {"doc": "a histogram (path in the file) that holds the sum",
                                                      "example": "metadata/sumOfWeights"},
    "analyses.*.samples[].sum_of_weights.bin": {"doc": "its bin (ROOT numbering)", "default": "1", "example": "1"},
    "analyses.*.samples[].lambdas": {"doc": "the kappa_lambda values a signal sample provides; without it a sample "
                                            "with `{tag}` provides any", "default": "any (via `{tag}`)",
                                     "example": "[1, -5]"},
    "analyses.*.samples[].tag_format": {"doc": "the sample's own `{tag}` spelling", "default": "the analysis'",
                                        "example": "{point: p, minus: minus, decimals: 1}"},
    "analyses.*.samples[].tag_format.point": {"doc": "what replaces the decimal point", "default": "`.`"},
    "analyses.*.samples[].tag_format.minus": {"doc": "the prefix of negative values", "default": "`m`"},
    "analyses.*.samples[].tag_format.decimals": {"doc": "fixed number of decimals", "default": "null"},
    "analyses.*.samples[].selection": {"doc": "an extra selection for this sample only", "default": "none",
                                       "example": "nTop >= 0"},
}


def _type(node: dict[str, Any]) -> str:
    if "enum" in node:
        return "one of " + ", ".join(f"`{v}`" for v in node["enum"])
    if "oneOf" in node:
        return " or ".join(_type(n) for n in node["oneOf"])
    kind = node.get("type")
    if isinstance(kind, list):
        return " or ".join(kind)
    if kind == "array":
        return f"list of {_type(node.get('items', {}))}"
    if kind == "object" and "properties" not in node and isinstance(node.get("additionalProperties"), dict):
        return f"mapping of {_type(node['additionalProperties'])}"
    if kind == "object" and "properties" in node:
        return "mapping (" + ", ".join(node["properties"]) + ")"
    return kind or "any"


def _limits(node: dict[str, Any]) -> str:
    out = []
    if "exclusiveMinimum" in node:
        out.append(f"> {node['exclusiveMinimum']}")
    if "minimum" in node:
        out.append(f">= {node['minimum']}")
    if node.get("minItems", 0) > 1:
        out.append(f"at least {node['minItems']} items")
    if "pattern" in node:
        out.append(f"name: `{node['pattern']}`")
    return ", ".join(out)


def schema_keys(schema: dict[str, Any] | None = None) -> list[tuple[str, dict[str, Any], bool]]:
    """Every key of the schema as (path, schema node, required), depth first; paths as in :data:`KEYS`."""
    if schema is None:
        from hhnb.config.analyses import SCHEMA as schema

    out: list[tuple[str, dict[str, Any], bool]] = []

    def objects(node: dict[str, Any]) -> list[dict[str, Any]]:
        """The object forms a value may take (itself, its oneOf branches, its list items)."""
        if "oneOf" in node:
            return [o for n in node["oneOf"] for o in objects(n)]
        if node.get("type") == "array" and isinstance(node.get("items"), dict):
            return objects(node["items"])
        return [node] if "properties" in node else []

    def walk(node: dict[str, Any], prefix: str) -> None:
        for form in objects(node):
            required = set(form.get("required", ()))
            for key, child in form["properties"].items():
                path = f"{prefix}{key}"
                out.append((path, child, key in required))
                item = "[]" if child.get("type") == "array" and objects(child) else ""
                walk(child, f"{path}{item}.")
                if isinstance(child.get("additionalProperties"), dict):  # a mapping of names (analyses, variations)
                    walk(child["additionalProperties"], f"{path}.*.")

    walk(schema, "")
    seen, unique = set(), []
    for path, node, required in out:
        if path not in seen:
            seen.add(path)
            unique.append((path, node, required))
    return unique


def _shipped_example(path: str) -> str | None:
    """The value the shipped analyses.yaml gives the key (first analysis / sample that sets it)."""
    import yaml

    from hhnb.config.analyses import DEFAULT_CONFIG

    raw = yaml.safe_load(Path(DEFAULT_CONFIG).read_text())

    def find(node: Any, parts: list[str]) -> Any:
        if not parts:
            return node
        head, rest = parts[0], parts[1:]
        if head == "*" and isinstance(node, dict):
            values = node.values()
        elif head.endswith("[]"):
            inner = node.get(head[:-2]) if isinstance(node, dict) else None
            values = inner if isinstance(inner, list) else []
            values = [v for v in values if isinstance(v, dict)] if rest else ([inner] if inner else [])
        elif isinstance(node, dict) and head in node:
            values = [node[head]]
        else:
            return None
        for v in values:
            got = find(v, rest)
            if got is not None:
                return got
        return None

    value = find(raw, path.split("."))
    if value is None or (isinstance(value, dict) and path in ("analyses",)):
        return None
    if isinstance(value, dict | list):
        text = json.dumps(value).replace('"', "")
        return text if len(text) <= 80 else None
    return str(value)


def describe(path: str, node: dict[str, Any]) -> str:
    """The key's description: the schema's own, else :data:`KEYS`' (empty when neither has one)."""
    return node.get("description") or KEYS.get(path, {}).get("doc", "")


def config_markdown() -> str:
    """The configuration reference: one table row per key of the schema."""
    lines = ["Every key of the analyses YAML (`--config`, `config=`), read off the schema "
             "(`hhnb.config.analyses.SCHEMA`) when the site is built; the file is validated against it on load, "
             "and an unknown key is an error naming the file and the key. `*` stands for an analysis name, "
             "`[]` for each item of a list.", "",
             "| key | type | required | default | meaning | example |", "|---|---|---|---|---|---|"]
    for path, node, required in schema_keys():
        info = KEYS.get(path, {})
        limits = _limits(node)
        kind = _type(node) + (f" ({limits})" if limits else "")
        example = info.get("example") or _shipped_example(path) or ""
        default = "" if required else info.get("default", "")
        lines.append(f"| `{path}` | {_cell(kind)} | {'yes' if required else ''} | {_cell(default)} | "
                     f"{_cell(describe(path, node))} | {'`' + _cell(example) + '`' if example else ''} |")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------------- API

STAGES = ("config", "stats", "io", "toy", "nn", "studies", "plots", "reports", "workflow", "commands")
TOP_MODULES = ("layout", "errors", "cli")


def public_modules() -> dict[str, list[str]]:
    """Stage -> its public modules (no leading underscore), from the package on disk; "hhnb" for the top ones."""
    import hhnb

    out: dict[str, list[str]] = {"hhnb": [f"hhnb.{m}" for m in TOP_MODULES]}
    for stage in STAGES:
        folder = Path(hhnb.__file__).parent / stage
        out[stage] = sorted(f"hhnb.{stage}.{m.name}" for m in pkgutil.iter_modules([str(folder)])
                            if not m.name.startswith("_"))
    return out


def api_pages() -> dict[str, str]:
    """Page name -> Markdown: one page per stage, the docstrings of each public module and its public members."""
    pages = {}
    for stage, modules in public_modules().items():
        title = "hhnb (top level)" if stage == "hhnb" else f"hhnb.{stage}"
        lines = [f"# {title}", ""]
        for module in modules:
            # autodoc writes reStructuredText: parsed as such inside eval-rst, not as MyST
            lines += [f"## {module}", "", "```{eval-rst}", f".. automodule:: {module}", "   :members:", "```", ""]
        pages[stage] = "\n".join(lines)
    return pages


# ------------------------------------------------------------------------------------------------ bench


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def bench_markdown(csv: Path | None = None) -> str:
    """The last ``make bench`` table (``runs/bench/bench.csv``) with its date and commit, else the stored rows."""
    import pandas as pd

    csv = csv or (ROOT / "runs" / "bench" / "bench.csv")
    stored = sorted((ROOT / "benchmarks" / "stored").glob("*.json"))
    if csv.is_file():
        df = pd.read_csv(csv)
        when = dt.datetime.fromtimestamp(csv.stat().st_mtime, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        commit = str(df["commit"].dropna().iloc[0]) if "commit" in df and df["commit"].notna().any() else \
            _git("log", "-1", "--format=%h", f"--until={when}")
        head = [f"The table `make bench` printed last in this checkout (`runs/bench/bench.csv`, written {when}, "
                f"commit {commit or 'unknown'}; the slow rows carry their own date in the `measured` column)."]
    else:
        rows = []
        for path in stored:
            doc = json.loads(path.read_text())
            rows += [{"measured": doc.get("measured"), "commit": doc.get("commit") or "", "file": f"stored/{path.name}",
                      **r} for r in doc["rows"]]
        df = pd.DataFrame(rows)
        head = ["`make bench` has not been run in this checkout (`runs/bench/bench.csv` is missing), so the table "
                "holds only the slow rows kept with their date in `benchmarks/stored/` (each names its commit). "
                "Run `make bench`, then `make docs`, to see the full table here."]
    columns = [c for c in ("benchmark", "hhnb", "peer", "reference", "unit", "ratio", "goal", "met", "cpu", "measured",
                           "commit") if c in df.columns]

    def cell(v: object) -> str:
        if isinstance(v, float):
            return "" if pd.isna(v) else f"{v:.4g}"
        if isinstance(v, bool):
            return "yes" if v else "NO"
        return "" if v is None else _cell(v)

    lines = head + ["", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in df[columns].itertuples(index=False)]
    return "\n".join(lines) + "\n"
