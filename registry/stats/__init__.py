"""Industry statistics for the association: counts and sums per member and industry-wide, never rows."""
