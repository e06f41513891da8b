"""Getting messages out at least once: recorded intents, SMTP and webhooks."""
