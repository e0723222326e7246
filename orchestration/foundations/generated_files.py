"""Files generated from a declaration (the dbt YAML of the registry and of the source contract).

A generator renders every file it owns as ``{path: text}``; this module writes them, lists the
ones that are missing or differ on disk (what a drift test asserts empty), and gives every
generator the same command line: no argument rewrites, ``--check`` exits 1 on drift. Generated
files are committed, so dbt and reviewers read them, and never edited by hand.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from orchestration.foundations.settings import PROJECT_ROOT

Rendered = dict[Path, str]


def yaml_text(header: str, body: dict[str, Any]) -> str:
    """The YAML of ``body`` after a comment ``header``, in the project's one layout."""
    return header + yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=100,
                                   default_flow_style=False)


def _shown(path: Path) -> str:
    return str(path.relative_to(PROJECT_ROOT)) if path.is_relative_to(PROJECT_ROOT) else str(path)


Stale = Callable[[Rendered], list[Path]]  # generated files on disk no longer rendered


def _no_stale(files: Rendered) -> list[Path]:
    return []


def differences(files: Rendered, stale: Stale = _no_stale) -> list[str]:
    """The rendered files that are missing or differ from what is on disk, and stale ones."""
    out = []
    for path, text in files.items():
        if not path.exists():
            out.append(f"{_shown(path)}: missing")
        elif path.read_text(encoding="utf-8") != text:
            out.append(f"{_shown(path)}: differs")
    return out + [f"{_shown(path)}: stale" for path in stale(files)]


def write(files: Rendered, stale: Stale = _no_stale) -> list[Path]:
    """Write the files that are missing or differ and remove stale ones; the paths touched."""
    written = []
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    for path in stale(files):
        path.unlink()
        written.append(path)
    return written


def main(render: Callable[[], Rendered], command: str, description: str,
         argv: list[str] | None = None, stale: Stale = _no_stale) -> int:
    """The command line of a generator: write, or ``--check`` for drift (exit 1)."""
    parser = argparse.ArgumentParser(prog=command, description=description,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 when a generated file is missing or differs")
    args = parser.parse_args(argv)
    if args.check:
        diffs = differences(render(), stale)
        for line in diffs:
            print(line, file=sys.stderr)
        if diffs:
            print(f"run `{command}` to regenerate", file=sys.stderr)
        return 1 if diffs else 0
    for path in write(render(), stale):
        print(f"{'wrote' if path.exists() else 'removed'} {_shown(path)}")
    return 0
