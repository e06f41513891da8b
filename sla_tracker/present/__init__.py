"""What people read: one template environment, e-mails, ticket and money views, CSV/JSON."""
