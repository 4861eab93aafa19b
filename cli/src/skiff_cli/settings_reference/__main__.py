"""`python -m skiff_cli.settings_reference [--check]`: write docs/settings.md and the kit's list.

Without `--check` both files are written (`make settings`); with it nothing is written and the
exit status is 1, naming each stale file, when either differs from what the classes say.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from skiff_cli.settings_reference.classes import settings_classes
from skiff_cli.settings_reference.others import GROUPS, compose_defaults
from skiff_cli.settings_reference.render import known_json, known_names, markdown

REPOSITORY = Path(__file__).resolve().parents[4]
MARKDOWN = "docs/settings.md"
KNOWN = "libs/kit/src/skiff_kit/known_settings.json"


def outputs(root: Path) -> dict[str, str]:
    """`{path under root: content}` of every generated file."""
    classes = settings_classes()
    compose = compose_defaults((root / "docker-compose.yml").read_text())
    return {
        MARKDOWN: markdown(classes, GROUPS, compose),
        KNOWN: known_json(known_names(classes, GROUPS)),
    }


def stale(root: Path) -> list[str]:
    """The generated files under `root` that are missing or differ from the classes."""
    return [
        path
        for path, content in outputs(root).items()
        if not (root / path).exists() or (root / path).read_text() != content
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Write the files, or with `--check` only compare them; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="fail if a file is stale")
    parser.add_argument("--root", type=Path, default=REPOSITORY, help="the repository")
    arguments = parser.parse_args(argv)
    root: Path = arguments.root
    if arguments.check:
        behind = stale(root)
        for path in behind:
            print(f"stale: {path} (run `make settings`)", file=sys.stderr)
        return 1 if behind else 0
    for path, content in outputs(root).items():
        (root / path).write_text(content)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
