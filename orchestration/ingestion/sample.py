"""The bundled synthetic sample dropped in the inbox, as the agencies would drop their extracts."""

from __future__ import annotations

import filecmp
import shutil

from orchestration.foundations.settings import Paths


def copy_sample_extracts(p: Paths) -> int:
    """Copy every sample extract into its source's inbox; identical files are left alone.
    Ground truth (folders starting with ``_``) is not a source and stays behind."""
    copied = 0
    for src in sorted(p.sample.glob("*/*.csv")):
        if src.parent.name.startswith("_"):
            continue
        target = p.inbox_of(src.parent.name) / src.name
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists() or not filecmp.cmp(src, target, shallow=False):
            shutil.copy2(src, target)
            copied += 1
    return copied
