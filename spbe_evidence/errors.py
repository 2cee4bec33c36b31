"""Errors the command line reports in words, without a traceback."""


class UserError(Exception):
    """A mistake in what the operator asked for (unknown SKPD, missing file, ...)."""
