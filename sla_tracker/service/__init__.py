"""The long-running service: scheduled jobs under one active instance."""
