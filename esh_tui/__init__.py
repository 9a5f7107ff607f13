"""esh-tui: never miss a new release from the artists you care about."""

__version__ = "0.1.0"
