"""Reports people receive: the weekly SLA report."""
