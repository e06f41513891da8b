"""The help-desk seam: what the sync needs from a help desk, whatever it is.

A help desk is reached through an adapter package beside this file (``freshdesk/`` today):
its client lists ticket pages oldest update first, views one ticket, lists companies,
ticket fields and conversations, and maps its records to the store's rows. Nothing outside
the adapter and the CLI's wiring imports it.
"""
