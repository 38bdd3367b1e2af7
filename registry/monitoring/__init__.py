"""Portfolio monitoring: watches, the alert feed, and signed webhook deliveries."""
