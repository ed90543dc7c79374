"""`rota systemd status`: is the timer installed and active, when does it fire, and how did the
last session end. One plain dict, the same for the text and the --json output.

Only systemd knows the last fire; the next one comes from systemd, else from systemd-analyze, else
it is unknown.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rota.systemd import analyze, systemctl
from rota.systemd.settings import settings_from_config
from rota.systemd.units import (
    SERVICE_NAME,
    TIMER_NAME,
    calendar_lines,
    read_unit_settings,
    render_timer,
    strip_comments,
)

SCHEMA_VERSION = 1


def _installation(
    unit_dir: Path | None, system: bool | None
) -> tuple[systemctl.Installation | None, systemctl.Target]:
    if unit_dir is not None:
        tgt = systemctl.target(unit_dir, system)
        inst = systemctl.find_installation(unit_dir_override=tgt.unit_dir, system=tgt.system)
        return inst, tgt
    inst = systemctl.find_installation(system=system)
    scope_system = inst.system if inst else bool(system)
    return inst, systemctl.target(None, scope_system)


def _last_session(config: Any, t: float) -> tuple[dict[str, Any] | None, str | None]:
    from rota.store import open_store
    from rota.timefmt import iso

    try:
        with open_store(config) as store:
            recent = store.recent_sessions(1)
    except Exception as exc:  # a broken store is reported, never a crash
        return None, f"{type(exc).__name__}: {exc}"
    if not recent:
        return None, None
    s = recent[0]
    return {
        "id": s.id,
        "status": s.status,
        "arm": s.credited_arm,
        "started_at": s.started_at,
        "started_at_iso": iso(s.started_at),
        "ended_at": s.ended_at,
        "ended_at_iso": iso(s.ended_at),
        "exit_code": s.exit_code,
        "reward": s.reward,
        "age_s": t - (s.ended_at or s.started_at),
    }, None


def report(
    config: Any | None, *, unit_dir: Path | None, system: bool | None, now: float
) -> dict[str, Any]:
    """Everything `status` shows. `config` None: the config could not be read (the caller says
    why); what systemd and the unit files tell is still reported."""
    from rota.timefmt import iso

    t = now
    inst, tgt = _installation(unit_dir, system)
    data: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "now": t,
        "now_iso": iso(t),
        "installed": bool(inst and inst.installed),
        "unit_dir": str(inst.unit_dir if inst else tgt.unit_dir),
        "scope": tgt.scope,
        "managed": tgt.managed,
        "units": {
            TIMER_NAME: bool(inst and inst.timer),
            SERVICE_NAME: bool(inst and inst.service),
        },
    }
    state = systemctl.systemd_state(system=tgt.system)
    data["systemd"] = {"running": state.running, "detail": state.detail}

    calendars: tuple[str, ...] = ()
    installed_timer_text = None
    if inst and inst.timer:
        try:
            installed_timer_text = (inst.unit_dir / TIMER_NAME).read_text(encoding="utf-8")
            calendars = tuple(read_unit_settings(installed_timer_text, "OnCalendar"))
        except OSError:
            pass
    source = "installed timer" if calendars else "config"
    if not calendars and config is not None:
        calendars = calendar_lines(config.schedule.on_calendar)
    data["schedule"] = {
        # A string for one expression, a list for several (as [schedule] on_calendar is written).
        "on_calendar": (calendars[0] if len(calendars) == 1 else list(calendars)) or None,
        "expressions": list(calendars),
        "source": source,
    }
    if config is not None and installed_timer_text is not None:
        wanted = render_timer(
            settings_from_config(config, rota_path="", config_path="", programs=[])
        )
        data["schedule"]["matches_config"] = strip_comments(wanted) == strip_comments(
            installed_timer_text
        )

    timer = None
    if state.running and inst and inst.timer and tgt.managed:
        timer = systemctl.timer_status(system=tgt.system)
    data["timer"] = {
        "active_state": timer.active_state if timer else "unknown",
        "sub_state": timer.sub_state if timer else "",
        "unit_file_state": timer.unit_file_state if timer else "",
    }
    next_fire: dict[str, Any] = {"at": None, "source": None}
    last_fire: dict[str, Any] = {"at": None, "source": None}
    if timer is not None and timer.next_at:
        next_fire = {"at": timer.next_at, "source": "systemd"}
    elif calendars:
        try:
            el = analyze.next_elapse(calendars, t)
            next_fire = {"at": el.at, "source": el.source}
            if not el.known:
                next_fire["unknown"] = el.reason
        except analyze.CalendarError as exc:
            next_fire = {"at": None, "source": None, "error": str(exc)}
    if timer is not None and timer.last_at:
        last_fire = {"at": timer.last_at, "source": "systemd"}
    data["next_fire"] = next_fire
    data["last_fire"] = last_fire

    data["last_session"] = None
    if config is not None:
        data["last_session"], store_error = _last_session(config, t)
        if store_error:
            data["store_error"] = store_error
    return data
