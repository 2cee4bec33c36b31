"""Errors about reports that an operator fixes (the command line shows them without a traceback)."""


class ReportsError(Exception):
    """A request the reports cannot serve as asked: no reports for the year, an unknown SKPD, mail not set up."""
