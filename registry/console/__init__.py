"""The association's web console for its staff (/console/)."""
