"""rota.privatefs: folders rota creates are owner-only whatever the umask, parents included."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from rota.privatefs import private_dir


@pytest.fixture
def umask():  # type: ignore[no-untyped-def]
    old = os.umask(0o022)
    os.umask(old)

    def set_(mask: int) -> None:
        os.umask(mask)

    yield set_
    os.umask(old)


@pytest.mark.parametrize("mask", [0o000, 0o002, 0o022, 0o077, 0o700])
def test_every_created_folder_is_0700(tmp_path: Path, umask, mask: int) -> None:  # type: ignore[no-untyped-def]
    umask(mask)
    private_dir(tmp_path / "a" / "b" / "c")
    for p in (tmp_path / "a", tmp_path / "a" / "b", tmp_path / "a" / "b" / "c"):
        assert stat.S_IMODE(p.stat().st_mode) == 0o700, (oct(mask), p)


def test_existing_folders_are_left_as_they_are(tmp_path: Path, umask) -> None:  # type: ignore[no-untyped-def]
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o755)
    umask(0)
    private_dir(shared / "rota")
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755
    assert stat.S_IMODE((shared / "rota").stat().st_mode) == 0o700
    private_dir(shared / "rota")  # idempotent


def test_a_file_in_the_way_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(OSError):
        private_dir(tmp_path / "f" / "sub")
