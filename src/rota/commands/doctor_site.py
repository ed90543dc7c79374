"""`rota doctor`'s checks of where a session runs: the workspace, the store and the timer. Each
check is {check, level (ok, warn: can still run, fail: cannot run), detail, fix}."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from rota.config import Config


def check(name: str, level: str, detail: str, fix: str = "") -> dict[str, str]:
    """level: ok, warn (can still run) or fail (cannot run)."""
    return {"check": name, "level": level, "detail": detail, "fix": fix}


def _section(name: str, checks: list[dict[str, str]]) -> dict[str, Any]:
    levels = {c["level"] for c in checks}
    worst = "fail" if "fail" in levels else "warn" if "warn" in levels else "ok"
    return {"name": name, "status": worst, "checks": checks}


def check_workspace(config: Config) -> dict[str, Any]:
    from rota.commands.init import git_root, rota_source_tree

    ws = Path(config.workspace.location)
    where = "[workspace] path" + (f" in {config.source}" if config.source else "")
    if not ws.is_dir():
        what = "is not a directory" if ws.exists() else "does not exist"
        return _section(
            "workspace",
            [check("exists", "fail", f"{ws} {what}", f"create it (git init {ws}) or fix {where}")],
        )
    checks = [check("exists", "ok", str(ws))]
    root = git_root(ws)
    if root is None:
        checks.append(
            check(
                "git",
                "fail",
                f"{ws} is not a git repository: sessions are graded by their commits",
                f"git -C {ws} init, or point {where} at your repository",
            )
        )
    else:
        checks.append(check("git", "ok", f"git repository at {root}"))
    if os.access(ws, os.W_OK | os.X_OK):
        checks.append(check("writable", "ok", "the agents can write here"))
    else:
        checks.append(
            check("writable", "fail", f"{ws} is not writable by this user", f"chown or chmod {ws}")
        )
    if root is not None:
        checks.append(_check_clean(ws))
    src = rota_source_tree(ws)
    if src is not None:
        checks.append(
            check(
                "purpose",
                "warn",
                f"{ws} is rota's own source tree: the agents would work on rota itself",
                f"point {where} at the repository you want worked on",
            )
        )
    return _section("workspace", checks)


def _check_clean(ws: Path) -> dict[str, str]:
    import subprocess

    try:
        proc = subprocess.run(
            ["git", "-C", str(ws), "status", "--porcelain", "--untracked-files=normal"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except FileNotFoundError:
        return check("clean", "fail", "git is not installed", "install git (apt-get install git)")
    except (OSError, subprocess.SubprocessError) as exc:
        return check("clean", "warn", f"git status failed: {exc}")
    if proc.returncode != 0:
        return check(
            "clean", "warn", f"git status failed: {proc.stderr.strip()[:200]}", "check the repo"
        )
    changed = [line for line in proc.stdout.splitlines() if line.strip()]
    if not changed:
        return check("clean", "ok", "no uncommitted changes")
    return check(
        "clean",
        "warn",
        f"{len(changed)} uncommitted change(s), e.g. {changed[0][3:]}: a session's grade would "
        "count them as the agent's work",
        "commit or stash them before the next session",
    )


def check_store(config: Config) -> dict[str, Any]:
    from rota.errors import RotaError
    from rota.store import open_store

    try:
        with open_store(config) as store:
            counts = store.counts()
            url = store.url
    except RotaError as exc:
        return _section(
            "store",
            [
                check(
                    "open",
                    "fail",
                    str(exc),
                    "start the database or fix [store] url (or $ROTA_STORE_URL)",
                )
            ],
        )
    except Exception as exc:  # a corrupt file is data to report, not a crash
        return _section(
            "store",
            [
                check(
                    "open",
                    "fail",
                    f"{type(exc).__name__}: {exc}",
                    "move the file aside; rota starts a new store",
                )
            ],
        )
    n = counts.get("sessions", 0)
    checks = [check("open", "ok", f"{url} ({n} session(s) recorded)")]
    if url.startswith("sqlite:"):
        path = Path(url.split("://", 1)[1] if "://" in url else url)
        try:
            mode = path.stat().st_mode & 0o777
        except OSError:
            mode = 0
        if mode & 0o077:
            checks.append(
                check(
                    "private",
                    "warn",
                    f"{path} is readable by others ({mode:o})",
                    f"chmod 600 {path}",
                )
            )
    return _section("store", checks)


def check_timer() -> dict[str, Any]:
    from rota.health import timer_facts

    try:
        facts = timer_facts()
    except Exception as exc:  # systemd in an odd state is a finding, not a crash
        return _section("timer", [check("timer", "warn", f"cannot ask systemd: {exc}")])
    scope = "system" if facts.system else "user"
    if not facts.installed:
        return _section(
            "timer",
            [
                check(
                    "installed",
                    "warn",
                    "no rota.timer: sessions run only when you call `rota run`",
                    "rota systemd install (or `rota loop` where there is no systemd)",
                )
            ],
        )
    if not facts.systemd:
        return _section(
            "timer",
            [check("active", "warn", f"rota.timer is installed ({scope}) but {facts.detail}")],
        )
    if facts.active_state != "active":
        flag = "" if facts.system else " --user"
        return _section(
            "timer",
            [
                check(
                    "active",
                    "warn",
                    f"rota.timer ({scope}) is {facts.active_state}",
                    f"systemctl{flag} enable --now rota.timer",
                )
            ],
        )
    return _section("timer", [check("active", "ok", f"rota.timer is active ({scope} units)")])
