"""A faithful Freshdesk simulator: seeded dataset (``dataset``) and HTTP server (``server``)."""
