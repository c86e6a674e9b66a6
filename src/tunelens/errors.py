"""The one exception type users see: its message says what is wrong and what to do."""


class TunelensError(Exception):
    """A problem with the user's input or environment, reported as one line by the CLI."""
