"""``python -m sla_tracker`` runs the CLI."""

from sla_tracker.cli import main

main()
