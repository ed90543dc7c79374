"""`@record`: an immutable, typed record class: a tuple with named fields, like typing.NamedTuple.

It does what typing.NamedTuple does, without importing typing (`rota select` runs before every
session, and typing alone costs milliseconds to import) and without collections.namedtuple's
per-class work at import: namedtuple compiles a constructor for every class (about 50 us each, and
rota has a few dozen record classes, all imported by `rota select`). Here a class is a plain tuple
subclass: fields are the same C-level item getters, and the constructor is a precompiled template
with its parameters renamed to the fields.

Fields come from the class annotations (kept as strings by `from __future__ import annotations`),
defaults from the class body, and methods and properties carry over. Instances are tuples with
_replace(), _asdict(), _fields and _field_defaults; they compare, hash and pickle as tuples of
their fields.
"""

from __future__ import annotations

from collections import _tuplegetter  # type: ignore[attr-defined]  # what namedtuple uses
from types import FunctionType

_SKIP = frozenset({"__dict__", "__weakref__", "__annotations__", "__module__", "__qualname__"})
_tuple_new = tuple.__new__


def _bind(cls: type, args: tuple[object, ...], kwargs: dict[str, object]) -> tuple[object, ...]:
    """The field values for cls(*args, **kwargs), with the defaults; TypeError as a call would."""
    fields: tuple[str, ...] = cls._fields  # type: ignore[attr-defined]
    n = len(fields)
    if len(args) > n:
        raise TypeError(f"{cls.__name__}() takes {n} arguments but {len(args)} were given")
    values = list(args)
    defaults: dict[str, object] = cls._field_defaults  # type: ignore[attr-defined]
    for name in fields[len(args) :]:
        if name in kwargs:
            values.append(kwargs.pop(name))
        elif name in defaults:
            values.append(defaults[name])
        else:
            raise TypeError(f"{cls.__name__}() missing required argument: {name!r}")
    if kwargs:
        name = next(iter(kwargs))
        if name in fields:
            raise TypeError(f"{cls.__name__}() got multiple values for argument {name!r}")
        raise TypeError(f"{cls.__name__}() got an unexpected keyword argument {name!r}")
    return tuple(values)


class _Record(tuple):
    """The base of every record class: construction, _replace, _asdict, repr, pickling."""

    __slots__ = ()
    _fields: tuple[str, ...] = ()
    _field_defaults: dict[str, object] = {}

    @classmethod
    def _make(cls, iterable: object) -> _Record:
        values = tuple(iterable)  # type: ignore[arg-type]
        if len(values) != len(cls._fields):
            raise TypeError(f"expected {len(cls._fields)} values, got {len(values)}")
        return _tuple_new(cls, values)

    def _replace(self, **changes: object) -> _Record:
        # Each field's change, else its value (as namedtuple does it: the loop runs in C).
        values = tuple(map(changes.pop, self._fields, self))
        if changes:
            raise ValueError(f"got unexpected field names: {list(changes)!r}")
        return _tuple_new(type(self), values)

    def _asdict(self) -> dict[str, object]:
        return dict(zip(self._fields, self, strict=True))

    def __getnewargs__(self) -> tuple[object, ...]:
        return tuple(self)

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in zip(self._fields, self, strict=True))
        return f"{type(self).__name__}({inner})"


# Constructors by number of fields, compiled once into this module's bytecode cache. A record class
# gets a copy whose parameters are renamed to its fields (code.replace), with its defaults: a
# constructor as fast as namedtuple's, without compiling one per class at import.
# fmt: off
_TEMPLATES = (
    lambda _cls: _tuple_new(_cls, ()),
    lambda _cls, a0: _tuple_new(_cls, (a0,)),
    lambda _cls, a0, a1: _tuple_new(_cls, (a0, a1)),
    lambda _cls, a0, a1, a2: _tuple_new(_cls, (a0, a1, a2)),
    lambda _cls, a0, a1, a2, a3: _tuple_new(_cls, (a0, a1, a2, a3)),
    lambda _cls, a0, a1, a2, a3, a4: _tuple_new(_cls, (a0, a1, a2, a3, a4)),
    lambda _cls, a0, a1, a2, a3, a4, a5: _tuple_new(_cls, (a0, a1, a2, a3, a4, a5)),
    lambda _cls, a0, a1, a2, a3, a4, a5, a6: _tuple_new(_cls, (a0, a1, a2, a3, a4, a5, a6)),
    lambda _cls, a0, a1, a2, a3, a4, a5, a6, a7: _tuple_new(_cls, (a0, a1, a2, a3, a4, a5, a6, a7)),
    lambda _cls, a0, a1, a2, a3, a4, a5, a6, a7, a8: _tuple_new(_cls, (a0, a1, a2, a3, a4, a5, a6, a7, a8)),
    lambda _cls, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9: _tuple_new(_cls, (a0, a1, a2, a3, a4, a5, a6, a7, a8, a9)),
    lambda _cls, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10: _tuple_new(_cls, (a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10)),
    lambda _cls, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11: _tuple_new(_cls, (a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11)),
    lambda _cls, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12: _tuple_new(_cls, (a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12)),
    lambda _cls, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13: _tuple_new(_cls, (a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13)),
    lambda _cls, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14: _tuple_new(_cls, (a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14)),
    lambda _cls, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15: _tuple_new(_cls, (a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15)),
    lambda _cls, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16: _tuple_new(_cls, (a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16)),
    lambda _cls, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16, a17: _tuple_new(_cls, (a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16, a17)),
    lambda _cls, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16, a17, a18: _tuple_new(_cls, (a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16, a17, a18)),
    lambda _cls, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16, a17, a18, a19: _tuple_new(_cls, (a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16, a17, a18, a19)),
)
# fmt: on


def _constructor(qualname: str, fields: tuple[str, ...], defaults: dict[str, object]):  # type: ignore[no-untyped-def]
    n = len(fields)
    argdefs = tuple(defaults.values()) or None
    if n < len(_TEMPLATES):
        code = _TEMPLATES[n].__code__
        code = code.replace(
            co_varnames=("_cls", *fields), co_name="__new__", co_qualname=f"{qualname}.__new__"
        )
        return FunctionType(code, globals(), "__new__", argdefs)

    def __new__(cls, *args, **kwargs):  # type: ignore[no-untyped-def]  # many fields: generic
        if not kwargs and len(args) == n:
            return _tuple_new(cls, args)
        return _tuple_new(cls, _bind(cls, args, kwargs))

    return __new__


def record(cls: type) -> type:
    annotations = cls.__dict__.get("__annotations__", {})
    fields = tuple(annotations)
    defaults: dict[str, object] = {}
    for name in fields:
        if name in cls.__dict__:
            defaults[name] = cls.__dict__[name]
        elif defaults:
            raise TypeError(
                f"{cls.__name__}.{name}: a field without a default follows one with a default"
            )
    namespace = {k: v for k, v in cls.__dict__.items() if k not in _SKIP and k not in fields}
    for i, name in enumerate(fields):
        namespace[name] = _tuplegetter(i, f"Alias for field number {i}")
    namespace["__slots__"] = ()
    namespace["__annotations__"] = annotations
    namespace["__qualname__"] = cls.__qualname__
    namespace["__module__"] = cls.__module__
    namespace["__match_args__"] = fields
    namespace["_fields"] = fields
    namespace["_field_defaults"] = defaults
    namespace["__new__"] = _constructor(cls.__qualname__, fields, defaults)
    return type(cls.__name__, (_Record,), namespace)
