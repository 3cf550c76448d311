"""Read the environment `scripts/stack` writes (`stack.env`), for the tests and benchmarks that drive the stack."""

from __future__ import annotations

import shlex
from pathlib import Path


def read_stack_env(path: Path) -> dict[str, str]:
    """stack.env holds `export KEY='value'` lines; PATH (which expands $PATH) is not needed by its readers."""
    env = {}
    for line in path.read_text().splitlines():
        if line.startswith("export ") and not line.startswith("export PATH="):
            key, _, value = shlex.split(line[len("export ") :])[0].partition("=")
            env[key] = value
    return env
