"""The one exception type users see: its message says what is wrong and what to do."""


class TunelensError(Exception):
    """A problem with the user's input or environment, reported as one line by the CLI."""


class UsageError(TunelensError):
    """A malformed command-line value (an unknown field in --set, a bad --margin): the CLI exits 2,
    as it does for the options argparse refuses, not 3 as for a run that failed."""
