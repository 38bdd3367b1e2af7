"""Borrower Registry: the shared borrower registry of an industry association of lenders."""

__version__ = "0.1.0"
