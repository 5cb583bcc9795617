"""``hhnb export``: write ``<model>.onnx`` beside each network (every fold of a k-fold set) and record it in the card."""

from __future__ import annotations

import argparse
import json

from hhnb import layout as paths
from hhnb.errors import UserArgumentError
from hhnb.io import artifacts
from hhnb.nn import apply as _apply
from hhnb.nn import onnx as _onnx


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--analysis", default=None, help="analysis (or comma list) whose networks to export")
    p.add_argument("--lambdas", default="1.0", help="'1,10,m5.0' or 'all' (default 1.0)")
    p.add_argument("--model", action="append", default=[], metavar="PATH",
                   help="a .keras model or its .json card (a k-fold set: its card or any fold file); repeatable")
    p.add_argument("--parameterised", action="store_true",
                   help="export the network parameterised in kappa_lambda (one input: the features, then kappa_lambda)")
    p.add_argument("--models-dir", default=None, help="where the networks are (default <project>/models)")


def run(args: argparse.Namespace) -> int:
    nets = [_apply.network(m) for m in args.model]
    if args.analysis:
        nets += _apply.networks(args.analysis, args.lambdas, paths.resolve(args.models_dir, "models"),
                                parameterised=args.parameterised)
    if not nets:
        raise UserArgumentError("nothing to export: give --analysis/--lambdas or --model")
    for net in nets:
        written = _onnx.export(net.files, net.inputs, net.classes)
        card_file = net.model_path.with_suffix(".json")
        card = json.loads(card_file.read_text())
        card["onnx"] = _onnx.card_entry(written, net.inputs, net.classes)
        artifacts.write_card(card_file, card)
        for w in written:
            print(f"wrote {w}")
    return 0
