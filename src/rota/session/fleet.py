"""Fleet mode: several machines sharing one store and the subscriptions behind it.

What a session holds besides the local flock (rota.session.lock):
- the workspace lock across the fleet (a workspace id may be reachable from several machines);
- one slot in every pool of the chosen arm that has `concurrency = N` (at most N sessions at once
  on one subscription, across machines).

Both come from the store (Store.acquire_workspace / acquire_pools): connection-bound advisory
locks on PostgreSQL, lease rows on SQLite. A heartbeat thread renews them every third of the
lease time, so a crashed holder frees its slot within the lease time while a live one keeps it
for as long as its session runs.

Selecting under pool limits: the policy already skips pools at their limit (SelectionInput.
pool_busy, fed from Store.pool_busy). Between that read and taking the slot another machine may
fill the pool; then the pool is marked full and the arm is selected again without it.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from rota.errors import WorkspaceBusy
from rota.store.base import LEASE_SECONDS, POOL, WORKSPACE, Holder, Lease

if TYPE_CHECKING:
    from rota.config import Config
    from rota.learning.policy import Decision
    from rota.quota.state import QuotaState
    from rota.store.base import Store


class FleetBusy(WorkspaceBusy):
    """Another machine holds the workspace (exit 75, a skip)."""

    def __init__(self, message: str, *, workspace: str, holder: dict[str, object]) -> None:
        super().__init__(message)
        self.workspace = workspace
        self.holder = holder


def pool_limits(config: Config, arm: str) -> dict[str, int]:
    """The arm's pools that have a concurrency limit: pool -> N."""
    if arm not in config.arms:
        return {}
    return {
        p: config.pools[p].concurrency
        for p in config.arm_scopes(arm).pools
        if config.pools[p].concurrency > 0
    }


def has_limits(config: Config) -> bool:
    return any(p.concurrency > 0 for p in config.pools.values())


class FleetSession:
    """The fleet side of one session: workspace lock, pool slots, heartbeat. Release is
    idempotent and safe from any exit path (it never raises)."""

    def __init__(
        self,
        store: Store,
        *,
        workspace: str,
        machine: str | None = None,
        pid: int | None = None,
        lease_s: float = LEASE_SECONDS,
        warn: bool = True,
    ) -> None:
        if machine is None:
            from rota.session.decide import machine_name

            machine = machine_name()
        self.store = store
        self.workspace = workspace
        self.holder = Holder(machine=machine, pid=pid or os.getpid(), workspace=workspace)
        self.lease_s = lease_s
        self.warn = warn
        self.workspace_lease: Lease | None = None
        self.pool_leases: list[Lease] = []
        self.lost: list[str] = []  # leases the heartbeat found lost ("pool chatgpt slot 0")
        self._mutex = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the workspace ----------------------------------------------------------------------------
    def lock_workspace(self) -> None:
        """Take the fleet-wide workspace lock, or raise FleetBusy (exit 75) naming the holder."""
        lease = self.store.acquire_workspace(self.workspace, self.holder, lease_s=self.lease_s)
        if lease is None:
            holder = self._holder_of(WORKSPACE, self.workspace)
            who = (
                f"{holder.get('machine') or 'another machine'} (pid {holder.get('pid')})"
                + (f", session {holder['session_id']}" if holder.get("session_id") else "")
                if holder
                else "another machine"
            )
            raise FleetBusy(
                f"workspace {self.workspace} is busy: held across the fleet by {who}",
                workspace=self.workspace,
                holder=holder,
            )
        with self._mutex:
            self.workspace_lease = lease
        self._start_heartbeat()

    def _holder_of(self, kind: str, name: str) -> dict[str, object]:
        with contextlib.suppress(Exception):
            for info in self.store.leases(time.time()):
                if info.kind == kind and info.name == name:
                    return info.to_dict()
        return {}

    # -- pools ------------------------------------------------------------------------------------
    def claim_pools(self, config: Config, arm: str) -> str | None:
        """Take a slot in each limited pool of `arm` (releasing slots held for an earlier arm).
        Returns None when held (or nothing to hold), else the name of a pool that is full."""
        self.release_pools()
        limits = pool_limits(config, arm)
        if not limits:
            return None
        leases, full = self.store.acquire_pools(limits, self.holder, lease_s=self.lease_s)
        if full is not None:
            return full
        with self._mutex:
            self.pool_leases = list(leases)
        self._start_heartbeat()
        return None

    def choose(
        self,
        config: Config,
        *,
        category: str,
        now: float,
        seed: int | None = None,
        states: Sequence[QuotaState] | None = None,
        arms: Sequence[str] | None = None,
    ) -> Decision:
        """Select an arm and hold its pool slots. A pool found full is excluded and the arm is
        selected again; the Decision returned is the one whose slots are held (or has no arm)."""
        from rota.session.decide import decide, quota_states

        self.release_pools()  # slots held for an earlier choice must not count against us
        if states is None:
            states = quota_states(config, self.store, now)
        busy = dict(self.store.pool_busy(now)) if has_limits(config) else {}
        while True:
            decision = decide(
                config,
                self.store,
                category=category,
                now=now,
                seed=seed,
                states=states,
                pool_busy=busy,
                arms=arms,
            )
            if decision.arm is None:
                return decision
            full = self.claim_pools(config, decision.arm)
            if full is None:
                return decision
            # Another machine filled it since pool_busy was read: exclude it, select again.
            # Each round marks one more pool full, so this ends within len(pools) + 1 rounds.
            busy[full] = max(busy.get(full, 0), config.pools[full].concurrency)

    # -- release ----------------------------------------------------------------------------------
    def _all(self) -> list[Lease]:
        with self._mutex:
            return ([self.workspace_lease] if self.workspace_lease else []) + list(self.pool_leases)

    def release_pools(self) -> None:
        with self._mutex:
            leases, self.pool_leases = self.pool_leases, []
        for lease in leases:
            with contextlib.suppress(Exception):
                lease.release()

    def release(self) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        self.release_pools()
        with self._mutex:
            lease, self.workspace_lease = self.workspace_lease, None
        if lease is not None:
            with contextlib.suppress(Exception):
                lease.release()

    def __enter__(self) -> FleetSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    # -- heartbeat --------------------------------------------------------------------------------
    def _start_heartbeat(self) -> None:
        with self._mutex:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._beat, name="rota-fleet-heartbeat", daemon=True
            )
            self._thread.start()

    def _beat(self) -> None:
        interval = max(0.05, self.lease_s / 3)
        while not self._stop.wait(interval):
            self.renew()

    def renew(self) -> list[str]:
        """Renew every held lease now; returns the ones found lost (also kept in self.lost)."""
        lost = []
        for lease in self._all():
            ok = False
            with contextlib.suppress(Exception):
                ok = lease.renew()
            if not ok and not self._stop.is_set():
                what = f"{lease.kind} {lease.name} slot {lease.slot}"
                lost.append(what)
                self._forget(lease)
                if self.warn:
                    print(
                        f"rota: warning: lost the fleet lock on {what} (store unreachable or "
                        "lease expired); the running session goes on",
                        file=sys.stderr,
                    )
        self.lost.extend(lost)
        return lost

    def _forget(self, lease: Lease) -> None:
        with self._mutex:
            if lease is self.workspace_lease:
                self.workspace_lease = None
            elif lease in self.pool_leases:
                self.pool_leases.remove(lease)
        with contextlib.suppress(Exception):
            lease.release()


@contextlib.contextmanager
def fleet_for(
    store: Store, *, workspace: str, machine: str | None = None, active: bool = True
) -> Iterator[FleetSession | None]:
    """What `rota run` holds across the fleet for one session (None when `active` is false, as in
    a dry run). Released when the block exits, before the store closes, on every path."""
    if not active:
        yield None
        return
    fleet = FleetSession(store, workspace=workspace, machine=machine)
    try:
        yield fleet
    finally:
        fleet.release()


__all__ = [
    "POOL",
    "WORKSPACE",
    "FleetBusy",
    "FleetSession",
    "fleet_for",
    "has_limits",
    "pool_limits",
]
