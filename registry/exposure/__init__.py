"""Cross-institution exposure: what the rest of the industry knows about a borrower."""
