"""The borrower's access report: every live record and recent inquiry held about one token."""
