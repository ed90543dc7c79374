"""rota.records: record classes behave as typing.NamedTuple classes would."""

from __future__ import annotations

import pickle

import pytest

from rota.records import record


@record
class Point:
    """A point."""

    x: float
    y: float
    label: str = ""
    tags: tuple[str, ...] = ()

    @property
    def norm1(self) -> float:
        return abs(self.x) + abs(self.y)

    def moved(self, dx: float) -> Point:
        return self._replace(x=self.x + dx)


def test_fields_defaults_and_methods() -> None:
    p = Point(1.0, -2.0)
    assert (p.x, p.y, p.label, p.tags) == (1.0, -2.0, "", ())
    assert p == (1.0, -2.0, "", ())
    assert Point(y=2.0, x=1.0, label="a") == (1.0, 2.0, "a", ())
    assert Point(1.0, 2.0, tags=("t",)).tags == ("t",)
    assert p.norm1 == 3.0
    assert p.moved(1.0) == Point(2.0, -2.0)
    assert Point._fields == ("x", "y", "label", "tags")
    assert Point._field_defaults == {"label": "", "tags": ()}
    assert p._asdict() == {"x": 1.0, "y": -2.0, "label": "", "tags": ()}
    assert Point._make([1, 2, "b", ()]) == Point(1, 2, "b")
    assert repr(p) == "Point(x=1.0, y=-2.0, label='', tags=())"
    assert Point.__doc__ == "A point."
    assert Point.__qualname__ == "Point" and Point.__module__ == __name__


def test_immutable_hashable_and_picklable() -> None:
    p = Point(1.0, 2.0, "a")
    with pytest.raises(AttributeError):
        p.x = 3.0  # type: ignore[misc]
    assert hash(p) == hash((1.0, 2.0, "a", ()))
    q = pickle.loads(pickle.dumps(p))
    assert q == p and type(q) is Point


def test_bad_calls_fail_as_calls_do() -> None:
    with pytest.raises(TypeError, match="missing"):
        Point()  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected keyword"):
        Point(1.0, 2.0, z=3.0)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="multiple values"):
        Point(1.0, 2.0, x=3.0)  # type: ignore[misc]
    with pytest.raises(TypeError):
        Point(1, 2, "a", (), "extra")  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="unexpected field"):
        Point(1.0, 2.0)._replace(z=1)
    with pytest.raises(TypeError, match="a field without a default follows"):

        @record
        class Bad:
            a: int = 0
            b: int


def test_many_fields() -> None:
    """Past the precompiled constructors' size: the generic constructor, same behaviour."""
    names = [f"f{i}" for i in range(25)]
    ns = {"__annotations__": dict.fromkeys(names, "int"), "f24": 0}
    Wide = record(type("Wide", (), ns))
    w = Wide(*range(24))
    assert w.f0 == 0 and w.f23 == 23 and w.f24 == 0
    assert Wide(*range(24), f24=5).f24 == 5
    assert Wide(**{n: 1 for n in names[:24]}) == (1,) * 24 + (0,)
    with pytest.raises(TypeError, match="missing required argument: 'f23'"):
        Wide(*range(23))
    with pytest.raises(TypeError, match="unexpected keyword"):
        Wide(*range(24), zz=1)
