"""The ``sla-tracker`` command line: thin commands over the library, one module per area.

The current instant is read once per run (``$SLA_TRACKER_NOW`` overrides it) and passed
down; settings are loaded lazily so that ``--help`` works even with a broken config file.
Commands are loaded by name when they run (``base.COMMANDS``), so start-up stays fast.
"""

from sla_tracker.cli.base import cli, main

__all__ = ["cli", "main"]
