"""sla-tracker: where a support team stands against its contract's SLA, to the second and cent."""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
