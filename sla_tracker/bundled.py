"""Where the files shipped beside the code are: in a wheel under ``sla_tracker/_bundled``,
in a source checkout at the top of the repository."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).parent


def bundled(folder: str) -> Path:
    """``calendars`` or ``templates``, wherever this installation keeps them."""
    inside = PACKAGE / "_bundled" / folder
    return inside if inside.is_dir() else PACKAGE.parent / folder
