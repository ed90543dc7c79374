"""`@record`: an immutable, typed record class built on collections.namedtuple.

It does what typing.NamedTuple does, without importing typing: `rota select` runs before every
session, and typing alone costs milliseconds to import. Fields come from the class annotations
(kept as strings by `from __future__ import annotations`), defaults from the class body, and
methods and properties carry over. Instances are tuples with _replace() and _asdict().
"""

from __future__ import annotations

from collections import namedtuple

_SKIP = frozenset({"__dict__", "__weakref__", "__annotations__", "__module__", "__qualname__"})


def record(cls: type) -> type:
    annotations = cls.__dict__.get("__annotations__", {})
    fields = tuple(annotations)
    defaults = []
    for name in fields:
        if name in cls.__dict__:
            defaults.append(cls.__dict__[name])
        elif defaults:
            raise TypeError(
                f"{cls.__name__}.{name}: a field without a default follows one with a default"
            )
    base = namedtuple(cls.__name__, fields, defaults=defaults, module=cls.__module__)  # type: ignore[misc]
    namespace = {k: v for k, v in cls.__dict__.items() if k not in _SKIP and k not in fields}
    namespace["__slots__"] = ()
    namespace["__annotations__"] = annotations
    namespace["__qualname__"] = cls.__qualname__
    namespace["__module__"] = cls.__module__
    return type(cls.__name__, (base,), namespace)
