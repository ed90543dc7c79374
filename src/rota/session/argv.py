"""A harness's argv from its template: placeholders filled as whole words, never a shell string, and
bounded by what one argument may hold (ARG_MAX)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

PLACEHOLDERS = ("model", "prompt", "prompt_file", "workspace", "category", "git_dir",
                "git_common_dir")
_PLACEHOLDER = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")
# Linux refuses a single argument longer than MAX_ARG_STRLEN (32 pages) with E2BIG.
MAX_ARG_BYTES = 32 * 4096 - 1


class ArgvTooLong(ValueError):
    def __init__(self, placeholder: str, size: int) -> None:
        self.placeholder = placeholder
        self.size = size
        super().__init__(
            f"an argument built from {{{placeholder}}} is {size} bytes, more than one argument "
            f"may hold ({MAX_ARG_BYTES}); pass the prompt as a file with {{prompt_file}}"
        )


def build_argv(template: Sequence[str], values: Mapping[str, str]) -> list[str]:
    """Substitute {model} {prompt} {prompt_file} {workspace} {category} {git_dir} {git_common_dir}
    in each element ({git_dir}, {git_common_dir}: where the workspace's commits go; see
    rota.session.plan.git_dirs).

    One pass per element: a prompt that contains "{model}" stays as written. Other braces are
    left alone. The result is an argv list for exec, never a shell string.
    """
    out: list[str] = []
    used: list[str] = []

    def sub(m: re.Match[str]) -> str:
        used.append(m.group(1))
        return str(values.get(m.group(1), m.group(0)))

    for element in template:
        used.clear()
        arg = _PLACEHOLDER.sub(sub, element)
        size = len(arg.encode("utf-8", "surrogateescape"))
        if size > MAX_ARG_BYTES:
            raise ArgvTooLong(used[0] if used else "command", size)
        out.append(arg)
    return out
