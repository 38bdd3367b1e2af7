"""The append-only audit log: who did what, when, with which outcome."""
