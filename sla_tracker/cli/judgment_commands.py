"""``refresh`` and ``verify``: keep every ticket's judgment current, and prove the kept
judgments equal the clocks recomputed from history."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import click

from sla_tracker.cli.base import local_time

if TYPE_CHECKING:
    from sla_tracker.cli.base import Runtime
    from sla_tracker.judgments import Judgments

log = logging.getLogger(__name__)


def judgments_of(runtime: Runtime) -> Judgments:
    from sla_tracker.judgments import Judgments

    return Judgments(runtime.engine, runtime.settings, runtime.calendar(None), runtime.now)


def refresh_with_progress(runtime: Runtime, *, thorough: bool = False) -> int:
    """Judge and keep every stale ticket, with a progress bar on a terminal; ``thorough``
    checks every ticket rather than only those writers marked."""
    from sla_tracker.present.output import judgment_progress

    with judgment_progress() as progress:
        return judgments_of(runtime).refresh(thorough=thorough, progress=progress)


@click.command("refresh")
@click.pass_obj
def refresh_command(runtime: Runtime) -> None:
    """Judge again and keep the tickets whose kept judgment is stale.

    After a change of rules, calendar or clock settings every ticket is stale: reads stay
    exact meanwhile (they judge stale tickets from history) but are slower. `sync` and the
    service refresh what they polled; this checks every ticket and does the rest now.

    \b
    Example:
        sla-tracker refresh
    """
    count = refresh_with_progress(runtime, thorough=True)
    click.echo(f"{count} ticket(s) judged and kept as of {local_time(runtime, runtime.now)}")


@click.command("verify")
@click.option(
    "--sample", type=click.IntRange(min=1), help="Check N tickets at random (default: all)."
)
@click.pass_obj
def verify_command(runtime: Runtime, sample: int | None) -> None:
    """Recompute tickets from history and compare with their kept judgments.

    Exit status 1 and one line per difference when any kept judgment disagrees with its
    history (please report it: it is a bug); tickets whose judgment is stale are skipped, as
    reads do not use it.

    \b
    Example:
        sla-tracker verify --sample 1000
    """
    judgments = judgments_of(runtime)
    differences = judgments.verify(sample)
    for line in differences:
        click.echo(line)
    checked = "a sample of " + str(sample) if sample else "every kept"
    if differences:
        raise click.ClickException(
            f"{len(differences)} difference(s) between kept judgments and history "
            f"({checked} ticket(s) as of {local_time(runtime, runtime.now)}); "
            "`sla-tracker refresh` after deleting them recomputes them"
        )
    click.echo(f"OK: {checked} ticket(s) agree with their history as of "
               f"{local_time(runtime, runtime.now)}")  # fmt: skip
