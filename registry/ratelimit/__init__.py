"""Rate limits and quotas shared by every worker and instance, counted in PostgreSQL."""
