"""A small on-disk cache of public holiday tables, so that a command need not import the
``holidays`` package (all 250 countries) to answer.

One JSON file per installed ``holidays`` version and holiday rules, under
``$SLA_TRACKER_CACHE_DIR``, else ``$XDG_CACHE_HOME/sla-tracker``, else
``~/.cache/sla-tracker``. A missing, unreadable or unwritable cache only costs time: the
tables are computed again.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import date
from importlib.util import find_spec
from pathlib import Path

YEARS = range(1990, 2061)  # what the clocks of real tickets ask for


def _folder() -> Path:
    explicit = os.environ.get("SLA_TRACKER_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sla-tracker"


def _path(key: list[object]) -> Path | None:
    """The cache file for ``key`` and the installed ``holidays`` (its version file's size and
    time, read without importing it); None if the package cannot be found."""
    spec = find_spec("holidays")
    if spec is None or spec.origin is None:
        return None
    version = Path(spec.origin).with_name("version.py")
    try:
        stamp = version.stat()
    except OSError:
        return None
    material = json.dumps([str(version), stamp.st_size, stamp.st_mtime_ns, key, YEARS.start,
                           YEARS.stop])  # fmt: skip
    return _folder() / f"holidays-{hashlib.sha256(material.encode()).hexdigest()[:20]}.json"


def read(key: list[object]) -> dict[int, dict[date, str]] | None:
    path = _path(key)
    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {
            int(year): {date.fromisoformat(day): name for day, name in days.items()}
            for year, days in data.items()
        }
    except (OSError, ValueError, AttributeError):
        return None


def write(key: list[object], table: dict[int, dict[date, str]]) -> None:
    path = _path(key)
    if path is None:
        return
    data = {str(year): {day.isoformat(): name for day, name in days.items()}
            for year, days in table.items()}  # fmt: skip
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        partial.replace(path)  # atomic: a concurrent reader sees the old file or the new one
    except OSError:
        return
