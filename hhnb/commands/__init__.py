"""One module per ``hhnb`` subcommand: ``add_arguments(parser)`` and ``run(args) -> int``."""
