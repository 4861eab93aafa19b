"""Every `SKIFF_*` name the repository's code, scripts, compose file, manifests and docs use.

A name is read as it is written: `SKIFF_SMTP_HOST`; `SKIFF_SESSION_CPU_{MIN,MAX}` (braces
expanded, as docs write families); `SKIFF_HTTP_*` or an f-string's `SKIFF_DATABASE_URL_{...}`
(a prefix, which at least one known name must start with).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path

FILES = ("Makefile", "docker-compose.yml", ".env.example", "README.md", "DEVELOPERS.md")
FOLDERS = (".ci", "bench", "cli", "deploy", "docs", "image", "libs", "proto-schemas")
FOLDERS += ("scripts", "services", "tests", "tilt")
SKIPPED_FOLDERS = {"__pycache__", ".venv", "node_modules", ".mypy_cache", ".ruff_cache"}
GENERATED = {"docs/settings.md", "libs/kit/src/skiff_kit/known_settings.json"}
LARGEST = 2_000_000  # bytes; nothing this big is code

NAME = re.compile(r"(?<![A-Za-z0-9_])SKIFF_[A-Z0-9_]*(?:\{[A-Z0-9_,]+\}[A-Z0-9_]*)*")


def _files(root: Path) -> Iterator[Path]:
    yield from (root / name for name in FILES if (root / name).is_file())
    for folder in FOLDERS:
        for path in sorted((root / folder).rglob("*")):
            relative = path.relative_to(root)
            if SKIPPED_FOLDERS & set(relative.parts) or relative.as_posix() in GENERATED:
                continue
            if path.is_file() and path.stat().st_size <= LARGEST:
                yield path


def _expanded(token: str) -> list[str]:
    """`A_{B,C}_D` → `A_B_D`, `A_C_D`; a token without braces as it is."""
    parts = re.split(r"\{([A-Z0-9_,]+)\}", token)
    choices = [[part] if i % 2 == 0 else part.split(",") for i, part in enumerate(parts)]
    return ["".join(combination) for combination in itertools.product(*choices)]


def _unknown(token: str, known: set[str]) -> list[str]:
    """The names `token` stands for that are not known (a prefix: itself, if nothing starts so)."""
    if token.endswith("_") and "{" not in token:
        return [] if any(name.startswith(token) for name in known) else [token + "*"]
    return [name for name in _expanded(token) if name not in known]


def names_in_repository(root: Path, known: set[str]) -> dict[str, list[str]]:
    """`{name: [files]}` of each `SKIFF_*` name the repository uses that is not in `known`."""
    found: dict[str, list[str]] = {}
    for path in _files(root):
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue  # a binary file
        for token in set(NAME.findall(text)):
            for name in _unknown(token, known):
                found.setdefault(name, []).append(path.relative_to(root).as_posix())
    return found
