"""A network namespace with only loopback up, so that a real CLI can reach nothing but the mock.

As root (CAP_SYS_ADMIN), `loopback_namespace()` makes a fresh namespace from a short-lived thread
(`unshare(CLONE_NEWNET)` applies to the calling thread only), brings `lo` up there with an ioctl,
builds the mock server's listening socket inside it, and keeps the namespace alive with an open
file descriptor. The server keeps answering from the test process; the CLI is started inside the
namespace with `nsenter --net=/proc/<pid>/fd/<fd> --`, where 127.0.0.1 is the mock and there is
no other interface, no route and no DNS.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import shutil
import socket
import struct
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

CLONE_NEWNET = 0x40000000
SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1


class NamespaceUnavailable(RuntimeError):
    pass


def _loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifr = struct.pack("16sH14s", b"lo", 0, b"")
        flags = struct.unpack("16sH", fcntl.ioctl(s, SIOCGIFFLAGS, ifr)[:18])[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH14s", b"lo", flags | IFF_UP, b""))


def why_unavailable() -> str | None:
    """None when namespaces can be made here, else the reason (for a skip message)."""
    if os.geteuid() != 0:
        return "needs root to make a loopback-only network namespace (unshare -n)"
    if shutil.which("nsenter") is None:
        return "needs nsenter (util-linux) to start the CLI inside the namespace"
    try:
        ns = LoopbackNamespace(lambda: None)
    except NamespaceUnavailable as exc:
        return str(exc)
    ns.close()
    return None


class LoopbackNamespace:
    """Runs `build()` inside a new loopback-only namespace and keeps the namespace open."""

    def __init__(self, build: Callable[[], T]) -> None:
        out: dict[str, object] = {}

        def target() -> None:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.unshare(CLONE_NEWNET) != 0:
                out["error"] = f"unshare(CLONE_NEWNET) failed: {os.strerror(ctypes.get_errno())}"
                return
            try:
                _loopback_up()
                tid = threading.get_native_id()
                out["fd"] = os.open(f"/proc/self/task/{tid}/ns/net", os.O_RDONLY | os.O_CLOEXEC)
                out["value"] = build()
            except Exception as exc:  # reported to the caller below
                out["error"] = f"{type(exc).__name__}: {exc}"

        t = threading.Thread(target=target, name="netns-builder")
        t.start()
        t.join()
        if "error" in out:
            if "fd" in out:
                os.close(int(out["fd"]))  # type: ignore[arg-type]
            raise NamespaceUnavailable(str(out["error"]))
        self.fd: int | None = int(out["fd"])  # type: ignore[arg-type]
        self.value = out.get("value")

    @property
    def path(self) -> str:
        assert self.fd is not None
        return f"/proc/{os.getpid()}/fd/{self.fd}"

    def prefix(self) -> list[str]:
        """argv prefix that runs a command inside the namespace."""
        return [shutil.which("nsenter") or "nsenter", f"--net={self.path}", "--"]

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
