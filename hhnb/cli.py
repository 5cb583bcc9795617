"""The ``hhnb`` command: one entry point, one module per subcommand in ``hhnb/commands``.

A subcommand's module (and what it imports) is loaded only when that subcommand runs or shows its
help, so ``hhnb record`` starts in a second; TensorFlow itself loads only when a network is used
(:mod:`hhnb.nn.backend`).
A user error (:class:`hhnb.errors.HHNBError`) is printed as one line on stderr with exit
status 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from hhnb.errors import HHNBError, message

COMMANDS = {
    "generate": "Generate the toy ROOT ntuples (any kappa_lambda)",
    "samples": "Print the samples of an analysis: events, weighted yield, file",
    "check": "Check a configuration: every file, tree, branch, selection and lambda, up front",
    "sweep": "Run the notebooks over a grid of analyses x lambdas on Dask",
    "apply": "Write network scores as new branches into copies of ntuples",
    "cut": "Cut on a score branch and print yields and significance",
    "record": "Print the run record (one row per trained network)",
    "roc": "Plot a ROC curve CSV and print the best significance",
    "search": "Random (or TPE) hyper-parameter search with Optuna",
    "export": "Write ONNX files of trained networks (feature scaling inside) for C++ and inference servers",
    "demo": "Generate toy ntuples, sweep the default grid, print the results",
}


def _module(name: str):
    return importlib.import_module(f"hhnb.commands.{name}")


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hhnb", description="Neural-network selection of di-Higgs events.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what is done")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    wanted = None
    for arg in argv or []:
        if arg in COMMANDS:
            wanted = arg
            break
    for name, help_text in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if name == wanted:
            _module(name).add_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(argv).parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    try:
        return int(_module(args.command).run(args) or 0)
    except HHNBError as exc:
        print(f"hhnb {args.command}: error: {message(exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
