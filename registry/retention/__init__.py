"""Retention: expired negative information and old inquiries are purged, daily and on demand."""
