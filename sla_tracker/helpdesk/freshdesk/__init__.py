"""Freshdesk API v2: the client, its record mapping and vocabulary, and a simulator."""
