"""rota: one timer for many AI coding-agent harnesses."""

__version__ = "0.1.0"
