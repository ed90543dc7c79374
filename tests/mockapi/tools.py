"""Turning a plan step into a call of the CLI's own shell tool.

Each CLI offers its model a shell tool under its own name and schema (claude `Bash`, codex
`shell_command`/`exec_command`/`shell`, gemini `run_shell_command`, opencode and copilot `bash`).
The mock reads the tools the CLI sent with the request, picks the shell tool, and fills its
arguments from the tool's JSON schema, so the real CLI runs the command in its workspace.
"""

from __future__ import annotations

from typing import Any

# Shell tools by name, most specific first.
SHELL_TOOL_NAMES = (
    "Bash",
    "shell_command",
    "exec_command",
    "shell",
    "run_shell_command",
    "bash",
    "execute_bash",
    "run_command",
)


def pick_shell_tool(tools: list[tuple[str, dict[str, Any]]]) -> tuple[str, dict[str, Any]] | None:
    """(name, parameters schema) of the shell tool among (name, schema) pairs, or None."""
    by_name = {name: schema for name, schema in tools}
    for name in SHELL_TOOL_NAMES:
        if name in by_name:
            return name, by_name[name] or {}
    return None


def shell_args(schema: dict[str, Any], command: str, description: str) -> dict[str, Any]:
    """Arguments for a shell tool with this JSON schema that run `command` (and fill required
    fields a model would fill: a description, a timeout)."""
    props: dict[str, Any] = schema.get("properties") or {}
    required = list(schema.get("required") or [])
    key = next((k for k in ("command", "cmd", "script") if k in props), None)
    if key is None:
        key = next((k for k, v in props.items() if v.get("type") == "string"), "command")
    args: dict[str, Any] = {}
    if (props.get(key) or {}).get("type") == "array":
        args[key] = ["bash", "-lc", command]
    else:
        args[key] = command
    if "description" in props:
        args["description"] = description
    for name in required:
        if name in args:
            continue
        spec = props.get(name) or {}
        typ = spec.get("type")
        if isinstance(typ, list):
            typ = next((t for t in typ if t != "null"), None)
        if "enum" in spec and spec["enum"]:
            args[name] = spec["enum"][0]
        elif typ == "string":
            args[name] = description
        elif typ in ("integer", "number"):
            args[name] = 60000 if "ms" in name or "timeout" in name else 1
        elif typ == "boolean":
            args[name] = False
        elif typ == "array":
            args[name] = []
        elif typ == "object":
            args[name] = {}
    return args
