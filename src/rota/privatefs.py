"""Owner-only folders whatever the umask.

rota's state (database, locks, session logs) and its config say what every session did and may
hold secrets. `os.makedirs(path, mode)` applies `mode` to the last folder only: the parents it
creates get 0777 less the umask, which is 0777 under `umask 000`. Every folder created here is
0700, parents included.
"""

from __future__ import annotations

import os

PRIVATE_DIR = 0o700


def private_dir(path: str | os.PathLike[str]) -> str:
    """Create `path` and its missing parents owner-only (0700); existing folders are left as
    they are. Returns the path as a string. Raises OSError like os.makedirs."""
    target = os.path.abspath(os.fspath(path))
    missing: list[str] = []
    p = target
    while not os.path.isdir(p):
        missing.append(p)
        parent = os.path.dirname(p)
        if parent == p:
            break
        p = parent
    for d in reversed(missing):
        try:
            os.mkdir(d, PRIVATE_DIR)
        except FileExistsError:
            if not os.path.isdir(d):
                raise
            continue  # created meanwhile by another process: not ours to change
        os.chmod(d, PRIVATE_DIR)  # an odd umask (0o700) may have taken the owner's bits too
    return target


__all__ = ["PRIVATE_DIR", "private_dir"]
