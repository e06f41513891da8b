"""Freshdesk's vocabulary: its built-in statuses, by their ids."""

from __future__ import annotations

OPEN, PENDING, RESOLVED, CLOSED = 2, 3, 4, 5  # Freshdesk's built-in statuses
# The stats milestones and the status each one means.
MILESTONES = (
    ("pending_since", PENDING),
    ("resolved_at", RESOLVED),
    ("closed_at", CLOSED),
    ("reopened_at", OPEN),
)
