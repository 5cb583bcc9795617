"""hhnb's user errors: one family, so the ``hhnb`` command can print them as one line (exit 2).

Anything that is not an :class:`HHNBError` is a bug and keeps its traceback. Each class also
derives from the built-in exception it replaced, so older ``except ValueError`` sites keep working.
"""

from __future__ import annotations


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


class MissingArtifactError(HHNBError, FileNotFoundError):
    """A model, card, scores file or record that an earlier step should have written."""


class UserArgumentError(HHNBError, ValueError):
    """A command-line or function argument outside what hhnb accepts."""


class UnwritableOutput(UserArgumentError, PermissionError):
    """An output folder that cannot be created or written."""


def message(exc: BaseException) -> str:
    """The one-line text of an error (KeyError's repr quotes dropped, continuation lines joined).

    >>> message(ConfigError("bad key\\n  a: b"))
    'bad key; a: b'
    """
    text = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    return "; ".join(line.strip() for line in text.splitlines() if line.strip())
