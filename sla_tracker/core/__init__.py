"""The pure core: calendar, clocks, classification and indemnity maths.

Nothing here does I/O, reads the environment or the clock: instants and holidays are
passed in by the adapters (SPEC.md is the source of truth for every rule).
"""
