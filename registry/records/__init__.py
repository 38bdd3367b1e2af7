"""Delinquency records: members report accounts under pseudonymous borrower tokens."""
