"""argparse without gettext's cost on the `rota select` path.

argparse imports gettext, which imports locale, and every parser it builds calls gettext() a
handful of times, each call searching the disk for message catalogs that Python does not ship
for argparse's messages. Together that is a few milliseconds of every `rota select`.

Before argparse is first imported, `gettext` is bound to a small stand-in whose gettext() and
ngettext() return the untranslated message (what the real functions return without a catalog);
anything else asked of it loads the real module and answers from it, so code that needs real
translations still gets them. When gettext is already loaded (a test runner, an application that
imports rota), nothing is changed.

Usage: `from rota.lean_argparse import argparse` wherever `import argparse` would be the first.
"""

from __future__ import annotations

import sys
from types import ModuleType


class _UntranslatedGettext(ModuleType):
    """The two functions argparse uses, untranslated; the real gettext for anything else."""

    @staticmethod
    def gettext(message: str) -> str:
        return message

    @staticmethod
    def ngettext(singular: str, plural: str, n: int) -> str:
        return singular if n == 1 else plural

    def __getattr__(self, name: str) -> object:
        if name.startswith("__"):  # the import system probing (__path__, ...): not gettext's
            raise AttributeError(name)
        return getattr(_real_gettext(), name)


def _real_gettext() -> ModuleType:
    import importlib

    if isinstance(sys.modules.get("gettext"), _UntranslatedGettext):
        del sys.modules["gettext"]
    return importlib.import_module("gettext")


if "argparse" not in sys.modules and "gettext" not in sys.modules:
    sys.modules["gettext"] = _UntranslatedGettext("gettext")

import argparse  # noqa: E402

__all__ = ["argparse"]
