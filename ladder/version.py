"""ladder's version, in a module of its own so that nothing imports it from the package root."""

__version__ = "0.1.0"
