"""`sla-tracker demo`: the whole pipeline on the bundled simulator (the work is in
``demo_run``, loaded when the demo runs)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from sla_tracker.cli.base import Runtime


@click.command()
@click.option(
    "--tickets", default=2000, show_default=True, help="Tickets in the simulated account."
)
@click.option("--seed", default=2026, show_default=True, help="Dataset seed.")
@click.option(
    "--dir", "directory", default="demo", show_default=True, type=click.Path(file_okay=False)
)
@click.option("--serve", is_flag=True, help="Keep the simulator running afterwards, until Ctrl-C.")
@click.pass_obj
def demo(runtime: Runtime, tickets: int, seed: int, directory: str, serve: bool) -> None:
    """Run the pipeline end to end on the bundled simulator: no credentials, no network.

    Starts the Freshdesk simulator on a free loopback port, writes DIR/sla-tracker.toml,
    syncs into a fresh SQLite database DIR/sla-tracker.db (the account as it stood a day
    ago, then now) and shows what happened, ending with commands to try. With --serve the
    simulator keeps running, its clock following the wall clock, so that `sync`, `run` and
    the alerts can be tried on the demo database. It marks
    DIR as its own (DIR/.sla-tracker-demo) and refuses a folder holding a database, config,
    report or alerts file that it did not write there.

    \b
    Example:
        sla-tracker demo --tickets 5000
        sla-tracker demo --serve
    """
    from sla_tracker.cli.demo_run import run_demo

    run_demo(runtime, tickets=tickets, seed=seed, directory=directory, serve=serve)
