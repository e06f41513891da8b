"""The web board, its JSON API, health and metrics, and Freshdesk's webhook (issue 14)."""
