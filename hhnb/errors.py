"""hhnb's user errors, all of them: one family, so the ``hhnb`` command prints each as one line (exit 2).

Anything that is not an :class:`HHNBError` is a bug and keeps its traceback. Each class also derives from
the built-in exception it stands for (``ValueError``, ``FileNotFoundError`` ...), so ``except ValueError``
keeps working. Every module raises these classes from here; none defines its own (tests/test_errors.py).
"""

from __future__ import annotations

__all__ = [
    "HHNBError", "ConfigError", "InputFileError", "MissingInputFile", "ExpressionError", "OnnxInputError",
    "EmptyBinError", "BasisError", "MissingArtifactError", "UserArgumentError", "UnwritableOutput",
    "SpaceMismatch", "ProjectBusy", "ClusterError", "SchedulerLost", "message",
]


class HHNBError(Exception):
    """A problem the user can fix: bad config, bad input file, missing artifact, bad argument."""


class ConfigError(HHNBError, ValueError):
    """A configuration file (or analysis name) that does not follow the schema."""


class InputFileError(HHNBError, ValueError):
    """An input file, tree, branch or value that hhnb cannot use as it is (missing, truncated, corrupt)."""


class MissingInputFile(InputFileError, FileNotFoundError):
    """An input file (ntuple, config, ROC table) or glob that matches nothing."""


class ExpressionError(InputFileError):
    """A feature, mass, weight or selection expression that does not parse, names a missing branch or
    collection, or gives something else than one number per event."""


class OnnxInputError(InputFileError):
    """An ONNX file that does not take the inputs the config or card expects."""


class EmptyBinError(InputFileError):
    """m_hh bins with no background Monte Carlo events after the selection."""


class BasisError(InputFileError):
    """A kappa_lambda signal basis that cannot be used: repeated points, or a sample missing."""


class MissingArtifactError(HHNBError, FileNotFoundError):
    """A model, card, scores file or record that an earlier step should have written."""


class UserArgumentError(HHNBError, ValueError):
    """A command-line or function argument outside what hhnb accepts."""


class UnwritableOutput(UserArgumentError, PermissionError):
    """An output folder that cannot be created or written."""


class SpaceMismatch(UserArgumentError):
    """A search study of that name exists with another search space or other fixed settings."""


class ProjectBusy(UserArgumentError):
    """Another process holds the project's lock."""


class ClusterError(UserArgumentError):
    """A cluster that cannot be built or reached: unknown kind, rejected job options, batch system down."""


class SchedulerLost(ClusterError):
    """The Dask scheduler stopped answering mid-run."""


def message(exc: BaseException) -> str:
    """The one-line text of an error (KeyError's repr quotes dropped, continuation lines joined).

    >>> message(ConfigError("bad key\\n  a: b"))
    'bad key; a: b'
    """
    text = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    return "; ".join(line.strip() for line in text.splitlines() if line.strip())
