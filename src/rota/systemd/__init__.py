"""rota and systemd: the single timer's units (units, settings), systemctl and systemd-analyze
(systemctl, analyze), installing and reporting on the timer (install, status), and retiring the
per-backend timers it replaces (adopt, suggest, harness_call, unitfile)."""
