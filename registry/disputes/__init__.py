"""Disputes: a borrower's objection to records, answered by their owners and resolved by the
association within 20 days."""
