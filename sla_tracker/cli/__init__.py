"""The ``sla-tracker`` command line: thin commands over the library, one module per area.

The current instant is read once per run (``$SLA_TRACKER_NOW`` overrides it) and passed
down; settings are loaded lazily so that ``--help`` works even with a broken config file.
"""

from sla_tracker.cli import (  # noqa: F401  (importing a module registers its commands)
    calendar_commands,
    demo_command,
    money_commands,
    service_commands,
    ticket_commands,
)
from sla_tracker.cli.base import cli, main

__all__ = ["cli", "main"]
