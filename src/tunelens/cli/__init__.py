"""Command-line interface; see ``tunelens --help``."""
